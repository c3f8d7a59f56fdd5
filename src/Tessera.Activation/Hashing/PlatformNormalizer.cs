using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using Tessera.Abstractions;
using Tessera.Identity.Normalization;

namespace Tessera.Activation.Hashing;

/// <summary>
/// Normalizes a match key the way each platform publishes it, before hashing
/// (docs/destinations-hashing.md has the rules, their sources and the worked examples the tests check).
/// Email syntax and phone numbers go through Tessera's own identity normalizers (the same checks as
/// the Email and Phone namespaces, libphonenumber for phones); the platform's rules come on top.
/// </summary>
/// <remarks>
/// Immutable and thread-safe. A value that is already normalized comes back as the same string
/// where the rules allow it (trimmed lower-case emails for Meta and LinkedIn, E.164 phones for
/// Google and UID2), so the common case allocates nothing. A value that cannot be sent gives an
/// <see cref="KeyOutcome.Invalid"/> outcome with a reason, never an exception.
/// </remarks>
public sealed class PlatformNormalizer
{
    /// <summary>Digits in an E.164 number (country code included) at least and at most.</summary>
    private const int MinE164Digits = 8;
    private const int MaxE164Digits = 15;

    private readonly IdentityNormalizer _email;
    private readonly IdentityNormalizer _phone;

    /// <param name="phoneRegion">The region numbers written without a country code are read in (default US).</param>
    public PlatformNormalizer(string? phoneRegion = null)
    {
        _email = new IdentityNormalizer(new IdentityNamespace { Code = "Email", Name = "Email", Type = IdentityType.Email });
        _phone = new IdentityNormalizer(new IdentityNamespace { Code = "Phone", Name = "Phone", Type = IdentityType.Phone, DefaultRegion = phoneRegion });
    }

    /// <summary>A shared instance reading numbers without a country code as US numbers.</summary>
    public static PlatformNormalizer Default { get; } = new();

    public string PhoneRegion => _phone.PhoneRegion!;

    /// <summary>Whether <paramref name="platform"/> wants <paramref name="kind"/> hashed (else it is sent as normalized text).</summary>
    public static bool IsHashed(HashPlatform platform, KeyKind kind) => platform switch
    {
        HashPlatform.Meta => kind is not (KeyKind.MobileAdId or KeyKind.ExternalId),
        HashPlatform.Google => kind is KeyKind.Email or KeyKind.Phone or KeyKind.FirstName or KeyKind.LastName,
        HashPlatform.TikTok => kind is KeyKind.Email or KeyKind.Phone or KeyKind.MobileAdId,
        HashPlatform.TradeDesk => kind is KeyKind.Email or KeyKind.Phone,
        HashPlatform.LinkedIn => kind is KeyKind.Email,
        _ => true,
    };

    /// <summary>Normalizes <paramref name="value"/> as a <paramref name="kind"/> key for <paramref name="platform"/>.</summary>
    public KeyOutcome Normalize(HashPlatform platform, KeyKind kind, string? value)
    {
        if (value is null)
        {
            return KeyOutcome.Invalid("the value is missing");
        }
        var trimmed = value.AsSpan().Trim();
        if (trimmed.IsEmpty)
        {
            return KeyOutcome.Invalid("the value is empty");
        }
        var hashed = IsHashed(platform, kind);
        if (hashed && DigestText.IsSha256Hex(trimmed))
        {
            // Hashed upstream (a hashed namespace, or the source's own hashing): passed through, lower-cased.
            var hex = trimmed.Length == value.Length ? value : trimmed.ToString();
            return KeyOutcome.Hashed(hex.ToLowerInvariant());
        }
        var outcome = kind switch
        {
            KeyKind.Email => Email(platform, value),
            KeyKind.Phone => Phone(platform, value),
            KeyKind.FirstName or KeyKind.LastName => Name(platform, value, trimmed),
            KeyKind.City => LettersOnly(trimmed, "a city"),
            KeyKind.State => State(trimmed),
            KeyKind.PostalCode => PostalCode(platform, value, trimmed),
            KeyKind.Country => Country(platform, trimmed),
            KeyKind.BirthYear => BirthYear(trimmed),
            KeyKind.BirthMonth => TwoDigits(trimmed, 1, 12, "a birth month (1-12)"),
            KeyKind.BirthDay => TwoDigits(trimmed, 1, 31, "a birth day (1-31)"),
            KeyKind.Gender => Gender(trimmed),
            KeyKind.MobileAdId => KeyOutcome.Plain(trimmed.ToString().ToLowerInvariant()),
            KeyKind.ExternalId => KeyOutcome.Plain(trimmed.Length == value.Length ? value : trimmed.ToString()),
            _ => KeyOutcome.Invalid($"unknown key kind {kind}"),
        };
        if (!outcome.IsUsable || outcome.Form == KeyForm.Hashed)
        {
            return outcome;
        }
        return hashed ? KeyOutcome.ToHash(outcome.Value!) : KeyOutcome.Plain(outcome.Value!);
    }

    // ------------------------------------------------------------------ email

    /// <summary>An email address as an email or SMS service takes it: trimmed, lower-cased, checked, unhashed.</summary>
    public KeyOutcome PlainEmail(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return KeyOutcome.Invalid("the value is empty");
        }
        var email = _email.Normalize(value);
        return email.IsNormalized ? KeyOutcome.Plain(email.Value!) : KeyOutcome.Invalid(email.Message!);
    }

    /// <summary>A phone number in E.164 (with its '+'), unhashed, as SMS services take it.</summary>
    public KeyOutcome PlainPhone(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return KeyOutcome.Invalid("the value is empty");
        }
        var e164 = E164(value);
        return e164.IsUsable ? KeyOutcome.Plain(e164.Value!) : e164;
    }

    private KeyOutcome Email(HashPlatform platform, string value)
    {
        var input = value;
        if (platform == HashPlatform.Google && HasInnerWhitespace(value.AsSpan().Trim()))
        {
            // Google: "trim leading, trailing and intermediate whitespace".
            input = RemoveWhitespace(value);
        }
        var checkedEmail = _email.Normalize(input);
        if (!checkedEmail.IsNormalized)
        {
            return KeyOutcome.Invalid(checkedEmail.Message!);
        }
        var email = checkedEmail.Value!;
        var at = email.LastIndexOf('@');
        var local = email.AsSpan(0, at);
        var domain = email.AsSpan(at + 1);
        var gmail = domain.SequenceEqual("gmail.com");
        var googlemail = domain.SequenceEqual("googlemail.com");
        var (removeDots, removeTag) = platform switch
        {
            // Google (Data Manager formatting guide): for gmail.com and googlemail.com, no '.' and no '+tag' before the '@'.
            HashPlatform.Google => (gmail || googlemail, gmail || googlemail),
            // UID2: for gmail.com only, no '.' and no '+tag'.
            HashPlatform.TradeDesk => (gmail, gmail),
            // TikTok (customer file formats): remove '+' and what follows it up to the '@', any domain.
            HashPlatform.TikTok => (false, true),
            _ => (false, false),
        };
        if (!removeDots && !removeTag)
        {
            return KeyOutcome.ToHash(email);
        }
        if (removeTag && local.IndexOf('+') is var plus and >= 0)
        {
            local = local[..plus];
        }
        if (local.IsEmpty)
        {
            return KeyOutcome.Invalid($"'{Show(value)}' has nothing before its '+' tag");
        }
        if (removeDots && local.Contains('.'))
        {
            Span<char> buffer = stackalloc char[local.Length];
            var length = 0;
            foreach (var c in local)
            {
                if (c != '.')
                {
                    buffer[length++] = c;
                }
            }
            return KeyOutcome.ToHash(string.Concat(buffer[..length], "@", domain));
        }
        return local.Length == at ? KeyOutcome.ToHash(email) : KeyOutcome.ToHash(string.Concat(local, "@", domain));
    }

    private static bool HasInnerWhitespace(ReadOnlySpan<char> value)
    {
        foreach (var c in value)
        {
            if (char.IsWhiteSpace(c))
            {
                return true;
            }
        }
        return false;
    }

    private static string RemoveWhitespace(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if (!char.IsWhiteSpace(c))
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }

    // ------------------------------------------------------------------ phone

    private KeyOutcome Phone(HashPlatform platform, string value)
    {
        if (platform == HashPlatform.LinkedIn)
        {
            return KeyOutcome.Invalid("LinkedIn matches no phone numbers");
        }
        var e164 = E164(value);
        if (!e164.IsUsable)
        {
            return e164;
        }
        // Meta and TikTok want the digits alone (country code first, no '+'); Google and UID2 want E.164 with its '+'.
        return platform is HashPlatform.Meta or HashPlatform.TikTok
            ? KeyOutcome.ToHash(e164.Value![1..])
            : KeyOutcome.ToHash(e164.Value!);
    }

    /// <summary>
    /// The number in E.164. A value already written in E.164 (what Tessera's phone namespaces store)
    /// is taken as it is; anything else goes through libphonenumber, read in the default region,
    /// and, when that is not a valid number there, as an international number without its '+'
    /// (<c>44 20 7183 8750</c>: the way Meta and TikTok ask their customer files to be written).
    /// </summary>
    public KeyOutcome E164(string value)
    {
        var trimmed = value.AsSpan().Trim();
        if (IsE164(trimmed))
        {
            return KeyOutcome.ToHash(trimmed.Length == value.Length ? value : trimmed.ToString());
        }
        var first = _phone.Normalize(value);
        if (first.IsNormalized)
        {
            return KeyOutcome.ToHash(first.Value!);
        }
        if (first.Status == NormalizationStatus.Blocked || trimmed.StartsWith('+'))
        {
            return KeyOutcome.Invalid(first.Message!);
        }
        Span<char> digits = stackalloc char[MaxE164Digits + 2];
        var count = 0;
        digits[count++] = '+';
        foreach (var c in trimmed)
        {
            if (char.IsAsciiDigit(c))
            {
                if (count == digits.Length)
                {
                    return KeyOutcome.Invalid(first.Message!);
                }
                digits[count++] = c;
            }
        }
        if (count - 1 < MinE164Digits || digits[1] == '0')
        {
            return KeyOutcome.Invalid(first.Message!);
        }
        var international = _phone.Normalize(digits[..count].ToString());
        return international.IsNormalized ? KeyOutcome.ToHash(international.Value!) : KeyOutcome.Invalid(first.Message!);
    }

    /// <summary>'+', then 8 to 15 digits, the first not 0.</summary>
    private static bool IsE164(ReadOnlySpan<char> value)
    {
        if (value.Length < MinE164Digits + 1 || value.Length > MaxE164Digits + 1 || value[0] != '+' || value[1] == '0')
        {
            return false;
        }
        foreach (var c in value[1..])
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }
        return true;
    }

    // ------------------------------------------------------------------ names and addresses

    private static KeyOutcome Name(HashPlatform platform, string value, ReadOnlySpan<char> trimmed)
    {
        if (BlockedValues.IsDefault(trimmed))
        {
            return KeyOutcome.Invalid($"'{Show(trimmed)}' is a blocked value");
        }
        return platform switch
        {
            // Meta: lower-case letters only, no punctuation; accented letters kept (UTF-8).
            HashPlatform.Meta => LettersOnly(trimmed, "a name"),
            // Google: trimmed and lower-cased.
            HashPlatform.Google => KeyOutcome.ToHash(trimmed.ToString().ToLowerInvariant()),
            // LinkedIn takes names as given (unhashed); trimmed.
            _ => KeyOutcome.Plain(trimmed.Length == value.Length ? value : trimmed.ToString()),
        };
    }

    /// <summary>Letters only, lower-cased: Meta's rule for names and cities (<c>Washington D.C</c> → <c>washingtondc</c>).</summary>
    private static KeyOutcome LettersOnly(ReadOnlySpan<char> trimmed, string what)
    {
        var builder = new StringBuilder(trimmed.Length);
        foreach (var rune in trimmed.EnumerateRunes())
        {
            if (Rune.IsLetter(rune))
            {
                builder.Append(Rune.ToLowerInvariant(rune).ToString());
            }
        }
        return builder.Length == 0
            ? KeyOutcome.Invalid($"'{Show(trimmed)}' has no letters: not {what}")
            : KeyOutcome.ToHash(builder.ToString());
    }

    /// <summary>Meta: a US state as its 2-letter code, lower-case; other states and provinces as lower-case letters.</summary>
    private static KeyOutcome State(ReadOnlySpan<char> trimmed)
    {
        var letters = LettersOnly(trimmed, "a state");
        if (!letters.IsUsable)
        {
            return letters;
        }
        return UsStates.TryGetValue(letters.Value!, out var code) ? KeyOutcome.ToHash(code) : letters;
    }

    private static KeyOutcome PostalCode(HashPlatform platform, string value, ReadOnlySpan<char> trimmed)
    {
        if (platform == HashPlatform.Google)
        {
            // Google sends postal codes unhashed, as written (trimmed).
            return KeyOutcome.Plain(trimmed.Length == value.Length ? value : trimmed.ToString());
        }
        // Meta: lower case, no spaces; a US ZIP+4 keeps its first 5 digits.
        Span<char> buffer = stackalloc char[Math.Min(trimmed.Length, 64)];
        var length = 0;
        foreach (var c in trimmed)
        {
            if (char.IsWhiteSpace(c))
            {
                continue;
            }
            if (length == buffer.Length)
            {
                return KeyOutcome.Invalid($"'{Show(trimmed)}' is too long for a postal code");
            }
            buffer[length++] = char.ToLowerInvariant(c);
        }
        var code = buffer[..length];
        if (IsUsZip(code))
        {
            return KeyOutcome.ToHash(code[..5].ToString());
        }
        return code.ContainsAnyExcept('-') ? KeyOutcome.ToHash(code.ToString()) : KeyOutcome.Invalid($"'{Show(trimmed)}' is not a postal code");
    }

    /// <summary><c>12345</c>, <c>123456789</c> or <c>12345-6789</c>.</summary>
    private static bool IsUsZip(ReadOnlySpan<char> code)
    {
        static bool Digits(ReadOnlySpan<char> s)
        {
            foreach (var c in s)
            {
                if (!char.IsAsciiDigit(c))
                {
                    return false;
                }
            }
            return true;
        }
        return code.Length switch
        {
            5 or 9 => Digits(code),
            10 => code[5] == '-' && Digits(code[..5]) && Digits(code[6..]),
            _ => false,
        };
    }

    private static KeyOutcome Country(HashPlatform platform, ReadOnlySpan<char> trimmed)
    {
        if (trimmed.Length != 2 || !char.IsAsciiLetter(trimmed[0]) || !char.IsAsciiLetter(trimmed[1]))
        {
            return KeyOutcome.Invalid($"'{Show(trimmed)}' is not an ISO 3166-1 alpha-2 country code (two letters, e.g. US)");
        }
        // Google's countryCode is written as the standard writes it (upper case); Meta's COUNTRY is lower-cased.
        return KeyOutcome.ToHash(platform == HashPlatform.Google ? trimmed.ToString().ToUpperInvariant() : trimmed.ToString().ToLowerInvariant());
    }

    // ------------------------------------------------------------------ birth date, gender

    /// <summary>Meta: YYYY from 1900. (The upper bound is 2100, not "this year": building requests reads no clock.)</summary>
    private static KeyOutcome BirthYear(ReadOnlySpan<char> trimmed) =>
        trimmed.Length == 4 && int.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var year) && year is >= 1900 and <= 2100
            ? KeyOutcome.ToHash(trimmed.ToString())
            : KeyOutcome.Invalid($"'{Show(trimmed)}' is not a birth year (YYYY, 1900 or later)");

    private static KeyOutcome TwoDigits(ReadOnlySpan<char> trimmed, int min, int max, string what) =>
        trimmed.Length is 1 or 2 && int.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max
            ? KeyOutcome.ToHash(number.ToString("00", CultureInfo.InvariantCulture))
            : KeyOutcome.Invalid($"'{Show(trimmed)}' is not {what}");

    private static KeyOutcome Gender(ReadOnlySpan<char> trimmed)
    {
        if (trimmed.Equals("m", StringComparison.OrdinalIgnoreCase) || trimmed.Equals("male", StringComparison.OrdinalIgnoreCase))
        {
            return KeyOutcome.ToHash("m");
        }
        if (trimmed.Equals("f", StringComparison.OrdinalIgnoreCase) || trimmed.Equals("female", StringComparison.OrdinalIgnoreCase))
        {
            return KeyOutcome.ToHash("f");
        }
        return KeyOutcome.Invalid($"'{Show(trimmed)}' is not a gender Meta matches (m or f)");
    }

    private static string Show(ReadOnlySpan<char> value) => value.Length <= 64 ? value.ToString() : string.Concat(value[..61], "...");

    /// <summary>US states, DC and territories by name (letters only, lower-case) to their 2-letter codes.</summary>
    private static readonly FrozenDictionary<string, string> UsStates = new Dictionary<string, string>
    {
        ["alabama"] = "al",
        ["alaska"] = "ak",
        ["arizona"] = "az",
        ["arkansas"] = "ar",
        ["california"] = "ca",
        ["colorado"] = "co",
        ["connecticut"] = "ct",
        ["delaware"] = "de",
        ["districtofcolumbia"] = "dc",
        ["florida"] = "fl",
        ["georgia"] = "ga",
        ["hawaii"] = "hi",
        ["idaho"] = "id",
        ["illinois"] = "il",
        ["indiana"] = "in",
        ["iowa"] = "ia",
        ["kansas"] = "ks",
        ["kentucky"] = "ky",
        ["louisiana"] = "la",
        ["maine"] = "me",
        ["maryland"] = "md",
        ["massachusetts"] = "ma",
        ["michigan"] = "mi",
        ["minnesota"] = "mn",
        ["mississippi"] = "ms",
        ["missouri"] = "mo",
        ["montana"] = "mt",
        ["nebraska"] = "ne",
        ["nevada"] = "nv",
        ["newhampshire"] = "nh",
        ["newjersey"] = "nj",
        ["newmexico"] = "nm",
        ["newyork"] = "ny",
        ["northcarolina"] = "nc",
        ["northdakota"] = "nd",
        ["ohio"] = "oh",
        ["oklahoma"] = "ok",
        ["oregon"] = "or",
        ["pennsylvania"] = "pa",
        ["rhodeisland"] = "ri",
        ["southcarolina"] = "sc",
        ["southdakota"] = "sd",
        ["tennessee"] = "tn",
        ["texas"] = "tx",
        ["utah"] = "ut",
        ["vermont"] = "vt",
        ["virginia"] = "va",
        ["washington"] = "wa",
        ["westvirginia"] = "wv",
        ["wisconsin"] = "wi",
        ["wyoming"] = "wy",
        ["puertorico"] = "pr",
        ["guam"] = "gu",
        ["americansamoa"] = "as",
        ["virginislands"] = "vi",
        ["northernmarianaislands"] = "mp",
    }.ToFrozenDictionary(StringComparer.Ordinal);
}
