using System.Text.Json;
using Tessera.Abstractions;

namespace Tessera.Server.Api;

/// <summary>
/// Outermost middleware: turns every refusal into <c>{"error":{"code","message"}}</c> with a
/// fitting status. <see cref="CatalogException"/> maps by its code (<c>*_NOT_FOUND</c> → 404,
/// <c>*_EXISTS</c>, <c>SCHEMA_BREAKING_CHANGE</c>, <c>MERGE_POLICY_LIMIT</c>, <c>MERGE_POLICY_IS_DEFAULT</c>, the audience limits, <c>AUDIENCE_IN_USE</c>, <c>AUDIENCE_DEPENDENCY_NOT_PUBLISHED</c> and <c>AUDIENCE_STATE_INVALID</c> → 409, <c>TOO_MANY_RECORDS</c> → 413, other → 400);
/// Kestrel's body-size refusal becomes 413 naming the limit; a bodiless 404/405/415 gets a JSON body too.
/// </summary>
internal sealed class ErrorHandlingMiddleware(RequestDelegate next, Workspace workspace, ILogger<ErrorHandlingMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (ApiException error)
        {
            await WriteAsync(context, error.Status, error.Code, error.Message, error.Details);
            return;
        }
        catch (CatalogException error)
        {
            await WriteAsync(context, StatusOf(error.Code), error.Code, error.Message, null);
            return;
        }
        catch (BadHttpRequestException error) when (error.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await WriteAsync(context, StatusCodes.Status413PayloadTooLarge, ApiErrorCodes.RequestTooLarge, TooLargeMessage(workspace), null);
            return;
        }
        catch (BadHttpRequestException error)
        {
            await WriteAsync(context, error.StatusCode, ApiErrorCodes.BodyInvalid, error.Message, null);
            return;
        }
        catch (JsonException error)
        {
            await WriteAsync(context, StatusCodes.Status400BadRequest, ApiErrorCodes.BodyInvalid, $"request body is not valid JSON for this endpoint: {error.Message}", null);
            return;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
            return;
        }
        catch (Exception error)
        {
            logger.LogError(error, "{Method} {Path} failed", context.Request.Method, context.Request.Path);
            await WriteAsync(context, StatusCodes.Status500InternalServerError, ApiErrorCodes.Internal, "the server failed to process the request; see the server log", null);
            return;
        }
        if (!context.Response.HasStarted && context.Response.ContentLength is null && context.Response.ContentType is null)
        {
            switch (context.Response.StatusCode)
            {
                case StatusCodes.Status404NotFound:
                    await WriteAsync(context, StatusCodes.Status404NotFound, ApiErrorCodes.NotFound, $"no endpoint {context.Request.Method} {context.Request.Path}", null);
                    break;
                case StatusCodes.Status405MethodNotAllowed:
                    await WriteAsync(context, StatusCodes.Status405MethodNotAllowed, ApiErrorCodes.MethodNotAllowed, $"{context.Request.Path} does not accept {context.Request.Method}", null);
                    break;
                case StatusCodes.Status415UnsupportedMediaType:
                    // Routing refuses a body whose Content-Type is not one the endpoint accepts (they are in /openapi/v1.json).
                    await WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, ApiErrorCodes.UnsupportedMediaType,
                        $"{context.Request.Method} {context.Request.Path} does not accept Content-Type '{context.Request.ContentType}' (JSON bodies are application/json; /openapi/v1.json lists what each endpoint accepts)", null);
                    break;
            }
        }
    }

    public static string TooLargeMessage(Workspace workspace) =>
        $"request body is larger than the limit of {workspace.Config.Limits.MaxRequestBodyBytes} bytes (limits.maxRequestBodyBytes)";

    /// <summary>The HTTP status for a catalog error code.</summary>
    public static int StatusOf(string code) => code switch
    {
        _ when code.EndsWith("_NOT_FOUND", StringComparison.Ordinal) => StatusCodes.Status404NotFound,
        _ when code.EndsWith("_EXISTS", StringComparison.Ordinal) => StatusCodes.Status409Conflict,
        "SCHEMA_BREAKING_CHANGE" => StatusCodes.Status409Conflict,
        // Both depend on the sandbox's other policies: deleting one, or naming another default, clears them.
        "MERGE_POLICY_LIMIT" or "MERGE_POLICY_IS_DEFAULT" => StatusCodes.Status409Conflict,
        // Each depends on the sandbox's other audiences (their number, states, or what reads what).
        "AUDIENCE_LIMIT" or "STREAMING_AUDIENCE_LIMIT" or "EDGE_AUDIENCE_LIMIT" or "AUDIENCE_IN_USE"
            or "AUDIENCE_DEPENDENCY_NOT_PUBLISHED" or "AUDIENCE_STATE_INVALID" => StatusCodes.Status409Conflict,
        "TOO_MANY_RECORDS" => StatusCodes.Status413PayloadTooLarge,
        "CONFIG_INVALID" => StatusCodes.Status500InternalServerError,
        _ => StatusCodes.Status400BadRequest,
    };

    public static async Task WriteAsync(HttpContext context, int status, string code, string message, IReadOnlyList<ValidationError>? details)
    {
        if (context.Response.HasStarted)
        {
            // Too late for a status: cut the response so the client sees a failure, not a truncated success.
            context.Abort();
            return;
        }
        context.Response.Clear();
        context.Response.StatusCode = status;
        if (status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer, Basic realm=\"tessera\"";
        }
        if (status == StatusCodes.Status413PayloadTooLarge)
        {
            // The rest of an oversized body is not read; the connection cannot be reused.
            context.Response.Headers.Connection = "close";
        }
        context.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, new ApiErrorResponse(new ApiError(code, message, details)),
            ServerJson.Default.ApiErrorResponse, context.RequestAborted);
    }
}
