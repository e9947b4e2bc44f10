using System;

namespace ShapGen;

/// <summary>The one way option setters check a value: an <see cref="ArgumentOutOfRangeException"/> naming the option.</summary>
internal static class OptionValue
{
    /// <summary>Returns <paramref name="value"/> when <paramref name="valid"/>, else throws naming <paramref name="option"/>.</summary>
    public static T Checked<T>(T value, bool valid, string option, string message) =>
        valid ? value : throw new ArgumentOutOfRangeException(option, value, message);

    /// <summary>Returns <paramref name="value"/> when it is a defined member of its enum, else throws naming <paramref name="option"/>.</summary>
    public static TEnum Defined<TEnum>(TEnum value, string option) where TEnum : struct, Enum =>
        Checked(value, Enum.IsDefined(value), option, $"Unknown {typeof(TEnum).Name} value.");
}
