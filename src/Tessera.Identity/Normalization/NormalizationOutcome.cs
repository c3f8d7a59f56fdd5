using Tessera.Abstractions;

namespace Tessera.Identity.Normalization;

public enum NormalizationStatus : byte
{
    /// <summary>The value is usable; <see cref="NormalizationOutcome.Value"/> is its normalized form.</summary>
    Normalized,
    /// <summary>A blocked value (placeholder, junk, or blocked by the namespace): not an identity.</summary>
    Blocked,
    /// <summary>Not a value of the namespace's format (not an email address, phone number, hash, UUID).</summary>
    Invalid,
}

/// <summary>
/// What <see cref="IdentityNormalizer.Normalize"/> made of a value: its normalized form, or why it
/// is not an identity (a stable <see cref="Reason"/> code from <see cref="ErrorCodes"/> and a message for people).
/// </summary>
public readonly record struct NormalizationOutcome
{
    private NormalizationOutcome(NormalizationStatus status, string? value, string? reason, string? message)
    {
        Status = status;
        Value = value;
        Reason = reason;
        Message = message;
    }

    public NormalizationStatus Status { get; }

    /// <summary>The normalized value; null unless <see cref="IsNormalized"/>.</summary>
    public string? Value { get; }

    /// <summary><c>IDENTITY_BLOCKED</c>, <c>IDENTITY_INVALID_EMAIL</c>, ...; null when normalized.</summary>
    public string? Reason { get; }

    /// <summary>Why the value was refused, in words (it quotes the value, shortened); null when normalized.</summary>
    public string? Message { get; }

    public bool IsNormalized => Status == NormalizationStatus.Normalized;

    public static NormalizationOutcome Normalized(string value) => new(NormalizationStatus.Normalized, value, null, null);

    public static NormalizationOutcome Blocked(string message) => new(NormalizationStatus.Blocked, null, ErrorCodes.IdentityBlocked, message);

    public static NormalizationOutcome Invalid(string reason, string message) => new(NormalizationStatus.Invalid, null, reason, message);

    public override string ToString() => IsNormalized ? $"Normalized({Value})" : $"{Status}({Reason}: {Message})";
}
