using System.Collections.Frozen;

namespace Tessera.Identity.Normalization;

/// <summary>
/// The values no namespace accepts unless it opts out (<c>defaultBlockedValues: false</c>): the
/// placeholders that exports, forms and SDKs write where an identity is missing. Linking on one
/// would join every record that carries it into one graph.
/// </summary>
/// <remarks>
/// Compared case-insensitively after trimming. Besides the listed words, a value is blocked when it
/// is all zeros (at least one <c>0</c> and otherwise only separators: <c>0</c>, <c>0000</c>,
/// <c>000-000-0000</c>, the all-zero UUID) or has no letter or digit at all (<c>-</c>, <c>?</c>,
/// <c>...</c>). Test-looking values (<c>test</c>, <c>test@example.com</c>) are not on the list: a
/// namespace can block them itself; in general they cannot be told from real ones.
/// </remarks>
public static class BlockedValues
{
    /// <summary>The listed default words (the all-zeros and no-letter-or-digit rules come on top).</summary>
    public static IReadOnlyList<string> Defaults { get; } =
    [
        "null", "nil", "none", "undefined", "unknown", "n/a", "na", "#n/a", "nan",
        "(null)", "<null>", "[null]", "(none)", "(not set)", "not set", "-1",
    ];

    private static readonly FrozenSet<string> Set = Defaults.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> Lookup = Set.GetAlternateLookup<ReadOnlySpan<char>>();
    private static readonly int Longest = Defaults.Max(d => d.Length);

    /// <summary>Whether a trimmed value is a default blocked value; allocates nothing.</summary>
    public static bool IsDefault(ReadOnlySpan<char> value)
    {
        if (value.Length <= Longest && Lookup.Contains(value))
        {
            return true;
        }
        return IsAllZeros(value) || !HasLetterOrDigit(value);
    }

    /// <summary>At least one <c>0</c>, and nothing but zeros and separators (<c>- _ . : / + ( )</c> and spaces).</summary>
    public static bool IsAllZeros(ReadOnlySpan<char> value)
    {
        var zero = false;
        foreach (var c in value)
        {
            if (c == '0')
            {
                zero = true;
            }
            else if (c is not ('-' or '_' or '.' or ':' or '/' or '+' or '(' or ')' or ' '))
            {
                return false;
            }
        }
        return zero;
    }

    private static bool HasLetterOrDigit(ReadOnlySpan<char> value)
    {
        foreach (var c in value)
        {
            if (char.IsLetterOrDigit(c))
            {
                return true;
            }
        }
        return false;
    }
}
