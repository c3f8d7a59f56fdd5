namespace Tessera.Activation.Hashing;

/// <summary>The platforms whose published normalization and hashing rules Tessera follows (docs/destinations-hashing.md).</summary>
public enum HashPlatform
{
    /// <summary>Meta (Facebook, Instagram) Custom Audiences: SHA-256 hex.</summary>
    Meta,
    /// <summary>Google Ads Customer Match: SHA-256 hex.</summary>
    Google,
    /// <summary>TikTok audiences: SHA-256 hex.</summary>
    TikTok,
    /// <summary>The Trade Desk through UID2: SHA-256, then Base64 of the raw digest.</summary>
    TradeDesk,
    /// <summary>LinkedIn Matched Audiences (DMP segments): SHA-256 hex.</summary>
    LinkedIn,
}

/// <summary>What a match key holds, whatever the platform calls it (<c>EMAIL</c>, <c>hashedEmail</c>, <c>SHA256_EMAIL</c>, ...).</summary>
public enum KeyKind
{
    Email,
    Phone,
    FirstName,
    LastName,
    City,
    /// <summary>State or province.</summary>
    State,
    PostalCode,
    /// <summary>ISO 3166-1 alpha-2 country code.</summary>
    Country,
    BirthYear,
    BirthMonth,
    BirthDay,
    Gender,
    /// <summary>A mobile advertising id (IDFA, GAID/AAID).</summary>
    MobileAdId,
    /// <summary>The advertiser's own id for the person (CRM id), sent as is.</summary>
    ExternalId,
}

/// <summary>How a normalized key is sent.</summary>
public enum KeyForm : byte
{
    /// <summary>Not usable: <see cref="KeyOutcome.Problem"/> says why.</summary>
    Invalid,
    /// <summary>Sent as the normalized text, unhashed (Google's country and postal code, Meta's MADID and EXTERN_ID, ...).</summary>
    Plain,
    /// <summary>Normalized text to be hashed with SHA-256.</summary>
    ToHash,
    /// <summary>Already a SHA-256 digest (64 hex digits, lower-cased here): sent as it is.</summary>
    Hashed,
}

/// <summary>A match key normalized for one platform, or why it cannot be sent.</summary>
/// <param name="Value">The normalized text (the lower-case hex digest when <see cref="Form"/> is <see cref="KeyForm.Hashed"/>); null when invalid.</param>
/// <param name="Problem">Why the value is not usable, quoting it; null when usable.</param>
public readonly record struct KeyOutcome(KeyForm Form, string? Value, string? Problem)
{
    public bool IsUsable => Form != KeyForm.Invalid;

    public static KeyOutcome Plain(string value) => new(KeyForm.Plain, value, null);

    public static KeyOutcome ToHash(string value) => new(KeyForm.ToHash, value, null);

    public static KeyOutcome Hashed(string lowerHex) => new(KeyForm.Hashed, lowerHex, null);

    public static KeyOutcome Invalid(string problem) => new(KeyForm.Invalid, null, problem);

    public override string ToString() => IsUsable ? $"{Form}({Value})" : $"Invalid({Problem})";
}
