using System;
using System.Collections.Concurrent;
using System.Linq;
using Microsoft.Extensions.Logging;

namespace ShapGen.Orleans.Tests;

/// <summary>A logger that keeps every message, for assertions on what the coordinator said.</summary>
public sealed class ListLogger : ILogger
{
    public ConcurrentQueue<string> Messages { get; } = new();

    public string All => string.Join(Environment.NewLine, Messages);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Messages.Enqueue($"{logLevel}: {formatter(state, exception)}");

    public bool Contains(string text) => Messages.Any(m => m.Contains(text, StringComparison.Ordinal));
}
