using Tessera.Abstractions;

namespace Tessera.Server.Api;

/// <summary>A request refused with an HTTP status and a stable error code (written as <see cref="ApiErrorResponse"/>).</summary>
public sealed class ApiException(int status, string code, string message, IReadOnlyList<ValidationError>? details = null) : Exception(message)
{
    public int Status { get; } = status;

    public string Code { get; } = code;

    public IReadOnlyList<ValidationError>? Details { get; } = details;

    public static ApiException BadRequest(string code, string message) => new(StatusCodes.Status400BadRequest, code, message);
}

/// <summary>Error codes of the HTTP layer (catalog and validation codes are passed through as they are).</summary>
public static class ApiErrorCodes
{
    public const string ApiKeyMissing = "API_KEY_MISSING";
    public const string ApiKeyInvalid = "API_KEY_INVALID";
    public const string RoleForbidden = "ROLE_FORBIDDEN";
    public const string SandboxForbidden = "SANDBOX_FORBIDDEN";
    public const string RequestTooLarge = "REQUEST_TOO_LARGE";
    public const string BodyInvalid = "BODY_INVALID";
    public const string NoRecords = "NO_RECORDS";
    public const string DatasetClassMismatch = "DATASET_CLASS_MISMATCH";
    public const string FormatUnknown = "FORMAT_UNKNOWN";
    public const string ParameterInvalid = "PARAMETER_INVALID";
    public const string ParameterMissing = "PARAMETER_MISSING";
    public const string UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE";
    public const string NotFound = "NOT_FOUND";
    public const string MethodNotAllowed = "METHOD_NOT_ALLOWED";
    public const string Internal = "INTERNAL_ERROR";
}
