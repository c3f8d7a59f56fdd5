using System.Buffers;
using System.Text;

namespace Tessera.Identity.Normalization;

/// <summary>The syntax checks of the email, hash and UUID formats, on spans (no allocation).</summary>
internal static class IdentitySyntax
{
    public const int MaxEmailLength = 254;
    public const int MaxLocalPartLength = 64;
    public const int MaxDomainLabelLength = 63;

    /// <summary>Characters an email address may not hold outside a quoted local part (which is not accepted).</summary>
    private static readonly SearchValues<char> EmailSpecials = SearchValues.Create("\"(),:;<>[\\]");

    /// <summary>
    /// A pragmatic address check, not RFC 5322: <c>local@domain.tld</c>, one <c>@</c>, no spaces or
    /// control characters, none of <c>"(),:;&lt;&gt;[\]</c>, no leading, trailing or doubled dot in
    /// the local part, a domain of at least two dot-separated labels (letters, digits, hyphens not at
    /// either end, or non-ASCII for internationalized names; at most 63 characters each) whose last
    /// label is at least two characters and not all digits, at most 64 characters before the
    /// <c>@</c> and 254 in all. Returns null when it passes, else what is wrong.
    /// </summary>
    public static string? EmailProblem(ReadOnlySpan<char> email)
    {
        if (email.Length > MaxEmailLength)
        {
            return $"is {email.Length} characters, more than {MaxEmailLength}";
        }
        var at = email.IndexOf('@');
        if (at < 0)
        {
            return "has no '@'";
        }
        if (email[(at + 1)..].Contains('@'))
        {
            return "has more than one '@'";
        }
        foreach (var c in email)
        {
            if (c <= ' ' || char.IsWhiteSpace(c) || char.IsControl(c))
            {
                return "contains a space or a control character";
            }
        }
        if (email.IndexOfAny(EmailSpecials) is var special and >= 0)
        {
            return $"contains '{email[special]}'";
        }
        var local = email[..at];
        if (local.Length == 0)
        {
            return "has nothing before the '@'";
        }
        if (local.Length > MaxLocalPartLength)
        {
            return $"has {local.Length} characters before the '@', more than {MaxLocalPartLength}";
        }
        if (local[0] == '.' || local[^1] == '.' || local.Contains("..", StringComparison.Ordinal))
        {
            return "has a leading, trailing or doubled '.' before the '@'";
        }
        return DomainProblem(email[(at + 1)..]);
    }

    private static string? DomainProblem(ReadOnlySpan<char> domain)
    {
        if (domain.Length == 0)
        {
            return "has no domain after the '@'";
        }
        var labels = 0;
        var rest = domain;
        while (true)
        {
            var dot = rest.IndexOf('.');
            var label = dot < 0 ? rest : rest[..dot];
            labels++;
            if (label.Length == 0)
            {
                return "has an empty label in its domain (a leading, trailing or doubled '.')";
            }
            if (label.Length > MaxDomainLabelLength)
            {
                return $"has a domain label of {label.Length} characters, more than {MaxDomainLabelLength}";
            }
            if (label[0] == '-' || label[^1] == '-')
            {
                return "has a domain label that starts or ends with '-'";
            }
            foreach (var c in label)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c > '\u007f'))
                {
                    return $"has '{c}' in its domain";
                }
            }
            if (dot < 0)
            {
                if (labels < 2)
                {
                    return "has no top-level domain (domain.tld)";
                }
                if (label.Length < 2 || !label.ContainsAnyExcept(Digits))
                {
                    return $"has '{label}' as its top-level domain";
                }
                return null;
            }
            rest = rest[(dot + 1)..];
        }
    }

    private static readonly SearchValues<char> Digits = SearchValues.Create("0123456789");
    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdefABCDEF");
    private static readonly SearchValues<char> AsciiUpper = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZ");

    public static bool IsHex(ReadOnlySpan<char> value) => !value.ContainsAnyExcept(HexDigits);

    /// <summary>8-4-4-4-12 hex digits with hyphens, either case.</summary>
    public static bool IsUuid(ReadOnlySpan<char> value) =>
        value.Length == 36 && value[8] == '-' && value[13] == '-' && value[18] == '-' && value[23] == '-'
        && IsHex(value[..8]) && IsHex(value[9..13]) && IsHex(value[14..18]) && IsHex(value[19..23]) && IsHex(value[24..]);

    /// <summary>
    /// <paramref name="value"/> lower-cased, or the same instance when it has nothing to lower
    /// (the normalized value of an already-normalized input is that input, not a copy).
    /// </summary>
    public static string Lower(string value)
    {
        var span = value.AsSpan();
        if (Ascii.IsValid(span))
        {
            // SearchValues rather than ContainsAnyInRange, which allocates in unoptimized builds.
            return span.ContainsAny(AsciiUpper) ? value.ToLowerInvariant() : value;
        }
        var lower = value.ToLowerInvariant();
        return string.Equals(lower, value, StringComparison.Ordinal) ? value : lower;
    }
}
