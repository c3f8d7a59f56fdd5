namespace Tessera.Abstractions;

/// <summary>Stable error codes used by validation, quarantine and the API.</summary>
public static class ErrorCodes
{
    public const string ParseError = "PARSE_ERROR";
    /// <summary>A text record (CSV row, JSON line) holds bytes that are not UTF-8; the record is quarantined, named by its row and column or field.</summary>
    public const string EncodingInvalid = "ENCODING_INVALID";
    public const string RequiredMissing = "REQUIRED_MISSING";
    public const string TypeMismatch = "TYPE_MISMATCH";
    public const string FormatInvalid = "FORMAT_INVALID";
    public const string EnumViolation = "ENUM_VIOLATION";
    public const string PatternViolation = "PATTERN_VIOLATION";
    public const string BelowMinimum = "BELOW_MINIMUM";
    public const string AboveMaximum = "ABOVE_MAXIMUM";
    public const string TooLong = "MAX_LENGTH_EXCEEDED";
    public const string UnknownField = "UNKNOWN_FIELD";
    public const string UnknownNamespace = "UNKNOWN_NAMESPACE";
    public const string NoPrimaryIdentity = "NO_PRIMARY_IDENTITY";
    public const string RecordTooLarge = "RECORD_TOO_LARGE";
    public const string TooManyIdentities = "TOO_MANY_IDENTITIES";
    public const string IdentityTooLong = "IDENTITY_VALUE_TOO_LONG";
    public const string TooManyFields = "TOO_MANY_FIELDS";
    public const string MappingError = "MAPPING_ERROR";
    /// <summary>The source file cannot be read as its format (not Parquet, not gzip, unreadable); the batch fails as a whole.</summary>
    public const string FileUnreadable = "FILE_UNREADABLE";
    /// <summary>Every identity of the record was dropped (blocked or invalid); the message names each and why.</summary>
    public const string NoUsableIdentity = "NO_USABLE_IDENTITY";

    // Why an identity value was dropped from linking (docs/identity.md); counted per batch, not record errors.
    /// <summary>A blocked value: a default one (<c>null</c>, <c>unknown</c>, all zeros, ...), the namespace's own, or its format's (the SHA-256 of "", the all-zero UUID).</summary>
    public const string IdentityBlocked = "IDENTITY_BLOCKED";
    public const string IdentityInvalidEmail = "IDENTITY_INVALID_EMAIL";
    public const string IdentityInvalidPhone = "IDENTITY_INVALID_PHONE";
    public const string IdentityInvalidHash = "IDENTITY_INVALID_HASH";
    public const string IdentityInvalidUuid = "IDENTITY_INVALID_UUID";
}

/// <summary>One reason a record was rejected: where (field path) and why (code, message).</summary>
public sealed record ValidationError(string Path, string Code, string Message);

/// <summary>A request that the catalog refuses (unknown object, breaking change, bad definition).</summary>
public sealed class CatalogException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
