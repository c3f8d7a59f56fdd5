using System.Collections.Frozen;
using PhoneNumbers;
using Tessera.Abstractions;

namespace Tessera.Identity.Normalization;

/// <summary>
/// Checks and normalizes the values of one identity namespace (docs/identity.md, "Normalization"):
/// trims, refuses blocked values, checks the namespace's format and writes its canonical form
/// (email lower-cased, phone in E.164, hashes and UUIDs lower-cased).
/// </summary>
/// <remarks>
/// Built once per namespace (its settings are resolved up front) and immutable, so one instance
/// serves any number of threads. An already-normalized value comes back as the same string
/// instance; the text, email, hash and UUID formats allocate nothing for it. Phone numbers are
/// parsed by libphonenumber, which allocates its parse result.
/// </remarks>
public sealed class IdentityNormalizer
{
    /// <summary>The region numbers without a <c>+</c> country code are read in when neither the namespace nor the workspace sets one.</summary>
    public const string FallbackPhoneRegion = "US";

    /// <summary>The SHA-256 of the empty string: what hashing an empty field gives.</summary>
    public const string EmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// <summary>Longest input handed to libphonenumber (its own limit is 250 characters).</summary>
    private const int MaxPhoneInput = 250;

    private static readonly PhoneNumberUtil Phones = PhoneNumberUtil.GetInstance();

    private readonly bool _defaults;
    private readonly FrozenSet<string>? _blocked;

    /// <param name="definition">The namespace, as the catalog has it.</param>
    /// <param name="phoneRegion">
    /// The workspace's default phone region, for a phone namespace without its own
    /// (<see cref="FallbackPhoneRegion"/> when null).
    /// </param>
    /// <exception cref="ArgumentException">The region in force is not one libphonenumber knows.</exception>
    public IdentityNormalizer(IdentityNamespace definition, string? phoneRegion = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        Namespace = definition.Code;
        Format = definition.EffectiveFormat;
        _defaults = definition.DefaultBlockedValues ?? true;
        if (Format == IdentityFormat.Phone)
        {
            PhoneRegion = (definition.DefaultRegion ?? phoneRegion ?? FallbackPhoneRegion).ToUpperInvariant();
            if (!Phones.GetSupportedRegions().Contains(PhoneRegion))
            {
                throw new ArgumentException($"namespace '{Namespace}': phone region '{PhoneRegion}' is not one libphonenumber knows", nameof(definition));
            }
        }
        if (definition.BlockedValues is { Count: > 0 } blocked)
        {
            // A blocked value matches as written and in its normalized form: blocking "+1 555 010 0000"
            // also blocks "(555) 010-0000" in a US phone namespace.
            var values = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var value in blocked)
            {
                var trimmed = value.Trim();
                if (trimmed.Length == 0)
                {
                    continue;
                }
                values.Add(trimmed);
                if (NormalizeFormat(trimmed) is { IsNormalized: true, Value: { } normalized })
                {
                    values.Add(normalized);
                }
            }
            _blocked = values.Count > 0 ? values.ToFrozenSet(StringComparer.OrdinalIgnoreCase) : null;
        }
    }

    /// <summary>The namespace code.</summary>
    public string Namespace { get; }

    public IdentityFormat Format { get; }

    /// <summary>The phone format's region for numbers without a country code; null for other formats.</summary>
    public string? PhoneRegion { get; }

    /// <summary>Checks <paramref name="value"/> and returns its normalized form, or why it is not an identity.</summary>
    public NormalizationOutcome Normalize(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var span = value.AsSpan().Trim();
        if (span.IsEmpty)
        {
            return NormalizationOutcome.Blocked("the value is empty");
        }
        if (_defaults && BlockedValues.IsDefault(span))
        {
            return NormalizationOutcome.Blocked($"'{Show(span)}' is a blocked value");
        }
        var trimmed = span.Length == value.Length ? value : span.ToString();
        var outcome = NormalizeFormat(trimmed);
        if (outcome.IsNormalized && _blocked is not null && (_blocked.Contains(trimmed) || _blocked.Contains(outcome.Value!)))
        {
            return NormalizationOutcome.Blocked($"'{Show(trimmed)}' is blocked in namespace '{Namespace}'");
        }
        return outcome;
    }

    private NormalizationOutcome NormalizeFormat(string trimmed) => Format switch
    {
        IdentityFormat.Email => NormalizeEmail(trimmed),
        IdentityFormat.Phone => NormalizePhone(trimmed),
        IdentityFormat.Sha256 => NormalizeSha256(trimmed),
        IdentityFormat.Uuid => NormalizeUuid(trimmed),
        _ => NormalizationOutcome.Normalized(trimmed),
    };

    private static NormalizationOutcome NormalizeEmail(string trimmed)
    {
        var lower = IdentitySyntax.Lower(trimmed);
        return IdentitySyntax.EmailProblem(lower) is { } problem
            ? NormalizationOutcome.Invalid(ErrorCodes.IdentityInvalidEmail, $"'{Show(trimmed)}' is not an email address: it {problem}")
            : NormalizationOutcome.Normalized(lower);
    }

    private NormalizationOutcome NormalizePhone(string trimmed)
    {
        if (PhoneValidity.TryReadInternational(trimmed, out var callingCode, out var valid))
        {
            // '+' and digits the parser would read as they stand: already E.164 (most stored and streamed numbers).
            return valid ? NormalizationOutcome.Normalized(trimmed) : NotValidIn(trimmed, callingCode);
        }
        // libphonenumber reports a failed parse by throwing: rule out the inputs that cannot be a number first.
        if (trimmed.Length > MaxPhoneInput)
        {
            return InvalidPhone(trimmed, $"is {trimmed.Length} characters long");
        }
        var digits = 0;
        foreach (var c in trimmed)
        {
            if (char.IsDigit(c))
            {
                digits++;
            }
        }
        if (digits < 2)
        {
            return InvalidPhone(trimmed, "has too few digits");
        }
        PhoneNumber number;
        try
        {
            number = Phones.Parse(trimmed, PhoneRegion);
        }
        catch (NumberParseException error)
        {
            return InvalidPhone(trimmed, error.ErrorType switch
            {
                ErrorType.INVALID_COUNTRY_CODE => $"has no valid country code (numbers without '+' are read as {PhoneRegion} numbers)",
                ErrorType.TOO_SHORT_NSN or ErrorType.TOO_SHORT_AFTER_IDD => "is too short",
                ErrorType.TOO_LONG => "is too long",
                _ => "is not a phone number",
            });
        }
        if (!PhoneValidity.IsValid(number))
        {
            return NotValidIn(trimmed, number.CountryCode);
        }
        var e164 = Phones.Format(number, PhoneNumberFormat.E164);
        return NormalizationOutcome.Normalized(string.Equals(e164, trimmed, StringComparison.Ordinal) ? trimmed : e164);
    }

    private static NormalizationOutcome NotValidIn(string trimmed, int callingCode)
    {
        // "ZZ": a calling code the library does not know; "001": a non-geographic one (+800, +882...).
        var region = Phones.GetRegionCodeForCountryCode(callingCode);
        return InvalidPhone(trimmed, $"is not a valid number in {(region is "ZZ" or "001" ? $"country code +{callingCode}" : region)}");
    }

    private static NormalizationOutcome InvalidPhone(string trimmed, string problem) =>
        NormalizationOutcome.Invalid(ErrorCodes.IdentityInvalidPhone, $"'{Show(trimmed)}' is not a phone number: it {problem}");

    private static NormalizationOutcome NormalizeSha256(string trimmed)
    {
        if (trimmed.Length != 64 || !IdentitySyntax.IsHex(trimmed))
        {
            return NormalizationOutcome.Invalid(ErrorCodes.IdentityInvalidHash,
                $"'{Show(trimmed)}' is not a SHA-256 digest: expected 64 hex digits, found {trimmed.Length} characters{(IdentitySyntax.IsHex(trimmed) ? "" : " not all hex")}");
        }
        var lower = IdentitySyntax.Lower(trimmed);
        return lower == EmptySha256
            ? NormalizationOutcome.Blocked("the value is the SHA-256 of the empty string (an empty field, hashed)")
            : NormalizationOutcome.Normalized(lower);
    }

    private static NormalizationOutcome NormalizeUuid(string trimmed)
    {
        if (!IdentitySyntax.IsUuid(trimmed))
        {
            return NormalizationOutcome.Invalid(ErrorCodes.IdentityInvalidUuid,
                $"'{Show(trimmed)}' is not a UUID: expected 8-4-4-4-12 hex digits (e.g. 6d92078a-8246-4ba4-ae5b-76104861e7dc)");
        }
        return BlockedValues.IsAllZeros(trimmed)
            ? NormalizationOutcome.Blocked("the value is the all-zero UUID (what a device that limits ad tracking reports)")
            : NormalizationOutcome.Normalized(IdentitySyntax.Lower(trimmed));
    }

    /// <summary>A value as quoted in a message: at most 64 characters.</summary>
    private static string Show(ReadOnlySpan<char> value) => value.Length <= 64 ? value.ToString() : string.Concat(value[..61], "...");
}
