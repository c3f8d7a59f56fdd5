using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Tessera.Ingestion.Validation;

namespace Tessera.Server.Api;

/// <summary>Reading request bodies (Kestrel enforces the size limit while they are read).</summary>
internal static class RequestBody
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 128 };

    /// <summary>Parses the body as one JSON document; an empty or malformed body is a 400.</summary>
    public static async Task<JsonDocument> ReadJsonAsync(HttpContext context)
    {
        try
        {
            return await JsonDocument.ParseAsync(context.Request.Body, DocumentOptions, context.RequestAborted);
        }
        catch (JsonException error)
        {
            throw ApiException.BadRequest(ApiErrorCodes.BodyInvalid, $"request body is not valid JSON: {error.Message}");
        }
    }

    /// <summary>
    /// Refuses a body whose <paramref name="properties"/> (of its root object) hold a string that is not Unicode text (a UTF-16
    /// surrogate escape without its pair, which JSON's grammar allows): for the parts of a body an endpoint reads itself
    /// rather than handing them to the ingestion as records, which rejects such a record alone.
    /// </summary>
    public static void RequireUnicodeText(JsonElement root, params ReadOnlySpan<string> properties)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        foreach (var name in properties)
        {
            if (root.TryGetProperty(name, out var value) && JsonText.NotUnicodeText(JsonMarshal.GetRawUtf8Value(value)) is { } wrong)
            {
                throw ApiException.BadRequest(ApiErrorCodes.BodyInvalid, $"request body's '{name}' has {wrong}");
            }
        }
    }

    /// <summary>Deserializes the body with source-generated metadata; a missing or malformed body is a 400.</summary>
    public static async Task<T> ReadAsync<T>(HttpContext context, JsonTypeInfo<T> typeInfo) where T : class
    {
        T? value;
        try
        {
            value = await JsonSerializer.DeserializeAsync(context.Request.Body, typeInfo, context.RequestAborted);
        }
        catch (JsonException error)
        {
            throw ApiException.BadRequest(ApiErrorCodes.BodyInvalid, $"request body is not a valid {typeof(T).Name}: {error.Message}");
        }
        return value ?? throw ApiException.BadRequest(ApiErrorCodes.BodyInvalid, $"request body must be a {typeof(T).Name} JSON object, not null");
    }

    /// <summary>The whole body as text (for small bodies such as a mapping).</summary>
    public static async Task<string> ReadTextAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, System.Text.Encoding.UTF8);
        return await reader.ReadToEndAsync(context.RequestAborted);
    }
}
