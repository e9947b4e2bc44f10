using System;
using System.Collections.Generic;
using Microsoft.Extensions.Logging;

namespace ShapGen.Tests.Infrastructure;

/// <summary>An <see cref="ILogger"/> that keeps every event (id, level, message, structured fields), thread-safely.</summary>
public sealed class ListLogger : ILogger
{
    private readonly List<Entry> _entries = new();

    public sealed record Entry(EventId Id, LogLevel Level, string Message, IReadOnlyList<KeyValuePair<string, object?>> Fields);

    public IReadOnlyList<Entry> Entries
    {
        get { lock (_entries) return _entries.ToArray(); }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var fields = state as IReadOnlyList<KeyValuePair<string, object?>> ?? Array.Empty<KeyValuePair<string, object?>>();
        lock (_entries) _entries.Add(new Entry(eventId, logLevel, formatter(state, exception), fields));
    }
}
