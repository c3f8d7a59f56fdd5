using System.Text;
using Microsoft.Extensions.Primitives;
using Tessera.Abstractions;

namespace Tessera.Server.Api;

/// <summary>Who may call an endpoint; put on every endpoint (a missing one means <see cref="Admin"/>).</summary>
public sealed class ApiAccess
{
    private ApiAccess(string name, ApiRole? role, bool bodyWriteKey)
    {
        Name = name;
        Role = role;
        BodyWriteKey = bodyWriteKey;
    }

    /// <summary>No key needed (health check).</summary>
    public static ApiAccess Anonymous { get; } = new("anonymous", null, false);

    /// <summary>Any live key of the sandbox: collect or admin.</summary>
    public static ApiAccess Collect { get; } = new("collect", ApiRole.Collect, false);

    /// <summary>
    /// Like <see cref="Collect"/>, and the key may also come as <c>writeKey</c> in the JSON body,
    /// which is how analytics.js in a browser sends it (no custom headers, so no CORS preflight).
    /// </summary>
    public static ApiAccess CollectOrBodyWriteKey { get; } = new("collect", ApiRole.Collect, true);

    /// <summary>Admin keys only.</summary>
    public static ApiAccess Admin { get; } = new("admin", ApiRole.Admin, false);

    public string Name { get; }

    /// <summary>The least role that may call; null for anonymous endpoints.</summary>
    public ApiRole? Role { get; }

    public bool BodyWriteKey { get; }
}

/// <summary>The authenticated key of the current request.</summary>
public sealed record ApiCaller(ApiKeyRecord Key)
{
    public string Sandbox => Key.Sandbox;

    public string KeyId => Key.Id;
}

public static class ApiAccessExtensions
{
    /// <summary>Declares who may call the endpoints built by <paramref name="builder"/>.</summary>
    public static TBuilder RequireAccess<TBuilder>(this TBuilder builder, ApiAccess access) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(access);

    /// <summary>The caller the request was authenticated as; throws when the endpoint is anonymous.</summary>
    public static ApiCaller Caller(this HttpContext context) => context.Features.Get<ApiCaller>()
        ?? throw new InvalidOperationException($"{context.Request.Path} has no authenticated caller; its endpoint must require a key");
}

/// <summary>
/// Authenticates every request that reaches an endpoint, before its body is read. The key comes as
/// <c>Authorization: Bearer SECRET</c>, <c>X-Api-Key: SECRET</c>, or HTTP Basic with the secret as
/// user name (Segment's server libraries; a secret in the password with an empty user name works
/// too). Unknown, revoked or missing keys get 401; a collect key on an admin endpoint gets 403; a
/// <c>sandbox</c> query parameter or <c>X-Tessera-Sandbox</c> header naming another sandbox than the
/// key's gets 403. A declared <c>Content-Length</c> above the body limit gets 413 at once.
/// </summary>
internal sealed class ApiKeyMiddleware(RequestDelegate next, Workspace workspace)
{
    public const string SandboxHeader = "X-Tessera-Sandbox";
    public const string ApiKeyHeader = "X-Api-Key";

    public Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null)
        {
            return next(context);
        }
        var access = endpoint.Metadata.GetMetadata<ApiAccess>() ?? ApiAccess.Admin;
        if (access.Role is null)
        {
            return next(context);
        }
        var secret = PresentedSecret(context.Request);
        if (secret is null && access.BodyWriteKey)
        {
            // The handler authenticates with the body's writeKey (ApiKeyMiddleware.Authorize).
            CheckDeclaredLength(context, workspace);
            return next(context);
        }
        Authorize(context, secret, access, workspace);
        CheckDeclaredLength(context, workspace);
        return next(context);
    }

    /// <summary>
    /// Authenticates <paramref name="secret"/> for the endpoint's <paramref name="access"/> and
    /// records the caller on the request; throws <see cref="ApiException"/> (401/403) otherwise.
    /// </summary>
    public static ApiCaller Authorize(HttpContext context, string? secret, ApiAccess access, Workspace workspace)
    {
        if (string.IsNullOrEmpty(secret))
        {
            throw new ApiException(StatusCodes.Status401Unauthorized, ApiErrorCodes.ApiKeyMissing,
                "an API key is required: send 'Authorization: Bearer <key>', 'X-Api-Key: <key>', or HTTP Basic with the key as user name"
                + (access.BodyWriteKey ? ", or \"writeKey\" in the JSON body" : ""));
        }
        var key = workspace.Catalog.Authenticate(secret)
            ?? throw new ApiException(StatusCodes.Status401Unauthorized, ApiErrorCodes.ApiKeyInvalid, "the API key is unknown or revoked");
        if (access.Role == ApiRole.Admin && key.Role != ApiRole.Admin)
        {
            throw new ApiException(StatusCodes.Status403Forbidden, ApiErrorCodes.RoleForbidden,
                $"API key '{key.Id}' has role 'collect', which may only send events and records; this endpoint needs an 'admin' key");
        }
        var requested = RequestedSandbox(context.Request);
        if (requested is not null && !string.Equals(requested, key.Sandbox, StringComparison.Ordinal))
        {
            throw new ApiException(StatusCodes.Status403Forbidden, ApiErrorCodes.SandboxForbidden,
                $"API key '{key.Id}' belongs to sandbox '{key.Sandbox}' and cannot act on sandbox '{requested}'");
        }
        var caller = new ApiCaller(key);
        context.Features.Set(caller);
        return caller;
    }

    private static void CheckDeclaredLength(HttpContext context, Workspace workspace)
    {
        if (context.Request.ContentLength > workspace.Config.Limits.MaxRequestBodyBytes)
        {
            throw new ApiException(StatusCodes.Status413PayloadTooLarge, ApiErrorCodes.RequestTooLarge, ErrorHandlingMiddleware.TooLargeMessage(workspace));
        }
    }

    private static string? RequestedSandbox(HttpRequest request)
    {
        if (request.Query.TryGetValue("sandbox", out var query) && !StringValues.IsNullOrEmpty(query))
        {
            return query.ToString();
        }
        return request.Headers.TryGetValue(SandboxHeader, out var header) && !StringValues.IsNullOrEmpty(header) ? header.ToString() : null;
    }

    /// <summary>The secret from the Authorization or X-Api-Key header, or null when neither is there.</summary>
    public static string? PresentedSecret(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.Length > 0)
        {
            var space = authorization.IndexOf(' ', StringComparison.Ordinal);
            var scheme = space < 0 ? authorization : authorization[..space];
            var value = space < 0 ? "" : authorization[(space + 1)..].Trim();
            if (scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
            if (scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
            {
                return BasicSecret(value);
            }
            throw new ApiException(StatusCodes.Status401Unauthorized, ApiErrorCodes.ApiKeyInvalid,
                $"unsupported Authorization scheme '{scheme}': use Bearer or Basic");
        }
        var header = request.Headers[ApiKeyHeader].ToString();
        return header.Length > 0 ? header.Trim() : null;
    }

    private static string BasicSecret(string encoded)
    {
        Span<byte> bytes = stackalloc byte[256];
        var buffer = encoded.Length * 3 / 4 <= bytes.Length ? bytes : new byte[encoded.Length];
        if (!Convert.TryFromBase64String(encoded, buffer, out var length))
        {
            throw new ApiException(StatusCodes.Status401Unauthorized, ApiErrorCodes.ApiKeyInvalid, "the Basic credentials are not valid base64");
        }
        var text = Encoding.UTF8.GetString(buffer[..length]);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var user = colon < 0 ? text : text[..colon];
        var password = colon < 0 ? "" : text[(colon + 1)..];
        return user.Length > 0 ? user : password;
    }
}

public static class ApiErrorMetadata
{
    /// <summary>Documents the JSON error answers every keyed endpoint can give (plus <paramref name="more"/>).</summary>
    public static TBuilder ProducesApiErrors<TBuilder>(this TBuilder builder, params int[] more) where TBuilder : IEndpointConventionBuilder
    {
        foreach (var status in (int[])[StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, .. more])
        {
            builder.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(ApiErrorResponse), ["application/json"]));
        }
        return builder;
    }
}
