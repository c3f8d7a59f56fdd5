using System.Reflection;
using System.Runtime.CompilerServices;
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

    /// <summary>The options of each contract read from request bodies, made to honour its nullable annotations.</summary>
    private static readonly ConditionalWeakTable<JsonSerializerOptions, JsonSerializerOptions> Strict = new();

    /// <summary>
    /// Deserializes the body with source-generated metadata; a missing or malformed body is a 400, and so is a
    /// <c>null</c> for a member that is not nullable (<c>"name": null</c>): the contracts' nullable annotations are
    /// enforced, so no endpoint or domain check ever meets a null its type rules out.
    /// </summary>
    public static async Task<T> ReadAsync<T>(HttpContext context, JsonTypeInfo<T> typeInfo) where T : class
    {
        try
        {
            return NotNull(await JsonSerializer.DeserializeAsync(context.Request.Body, Strictly(typeInfo), context.RequestAborted));
        }
        catch (JsonException error)
        {
            throw NotValid<T>(error);
        }
    }

    /// <summary>As <see cref="ReadAsync"/>, from a body already parsed (for an endpoint that looks at its JSON first).</summary>
    public static T Read<T>(JsonElement body, JsonTypeInfo<T> typeInfo) where T : class
    {
        try
        {
            return NotNull(body.Deserialize(Strictly(typeInfo)));
        }
        catch (JsonException error)
        {
            throw NotValid<T>(error);
        }
    }

    private static T NotNull<T>(T? value) where T : class =>
        value ?? throw ApiException.BadRequest(ApiErrorCodes.BodyInvalid, $"request body must be a {typeof(T).Name} JSON object, not null");

    private static ApiException NotValid<T>(JsonException error) =>
        ApiException.BadRequest(ApiErrorCodes.BodyInvalid, $"request body is not a valid {typeof(T).Name}: {error.Message}");

    private static JsonTypeInfo<T> Strictly<T>(JsonTypeInfo<T> typeInfo)
    {
        var options = Strict.GetValue(typeInfo.Options, static options => new JsonSerializerOptions(options)
        {
            RespectNullableAnnotations = true,
            TypeInfoResolver = options.TypeInfoResolver!.WithAddedModifier(RefuseNullItems),
        });
        return (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
    }

    /// <summary>
    /// The nullable annotations of a member do not reach its items (<c>List&lt;string&gt;</c>, a dictionary's values), which
    /// the serializer fills with whatever the JSON holds: a member whose items are not nullable refuses a <c>null</c> item.
    /// </summary>
    private static void RefuseNullItems(JsonTypeInfo type)
    {
        if (type.Kind != JsonTypeInfoKind.Object)
        {
            return;
        }
        // Checked once the object is read: init-only members are set by the object's creation, not by a setter.
        var checkedMembers = type.Properties.Where(property => property.Get is not null && ItemsAreNotNullable(property))
            .Select(property => (property.Name, Get: property.Get!))
            .ToArray();
        if (checkedMembers.Length == 0)
        {
            return;
        }
        var previous = type.OnDeserialized;
        type.OnDeserialized = target =>
        {
            foreach (var (name, get) in checkedMembers)
            {
                if (HasNullItem(get(target)))
                {
                    throw new JsonException($"'{name}' holds a null item; give a value or leave the item out");
                }
            }
            previous?.Invoke(target);
        };
    }

    private static bool ItemsAreNotNullable(JsonPropertyInfo property)
    {
        var type = property.PropertyType;
        if (type == typeof(string) || !type.IsAssignableTo(typeof(System.Collections.IEnumerable)))
        {
            return false;
        }
        var nullability = property.AttributeProvider switch
        {
            PropertyInfo member => new NullabilityInfoContext().Create(member),
            FieldInfo member => new NullabilityInfoContext().Create(member),
            _ => null,
        };
        var item = nullability switch
        {
            null => null,
            { ElementType: { } element } => element,
            { GenericTypeArguments: [var only] } => only,
            { GenericTypeArguments: [_, var value] } => value,
            _ => null,
        };
        return item is { ReadState: NullabilityState.NotNull } && !item.Type.IsValueType;
    }

    private static bool HasNullItem(object? value)
    {
        System.Collections.IEnumerable? items = value switch
        {
            System.Collections.IDictionary dictionary => dictionary.Values,
            System.Collections.IEnumerable sequence => sequence,
            _ => null,
        };
        if (items is null)
        {
            return false;
        }
        foreach (var item in items)
        {
            if (item is null)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The whole body as text (for small bodies such as a mapping).</summary>
    public static async Task<string> ReadTextAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, System.Text.Encoding.UTF8);
        return await reader.ReadToEndAsync(context.RequestAborted);
    }
}
