using System.Globalization;

namespace Tessera.Server.Api;

/// <summary>The type of a query parameter, as the OpenAPI document gives it.</summary>
public enum QueryType
{
    String,
    Int32,
    Int64,
    Boolean,
}

/// <summary>
/// One query parameter of an endpoint, declared on it with <see cref="QueryParameterMetadata.WithQuery"/>: the OpenAPI
/// document describes it from this (type, bounds, default, allowed values, required), and <see cref="QueryParameter"/>
/// reads only the parameters so declared.
/// </summary>
/// <param name="Values">The values a string parameter may take (an enum), matched ignoring case.</param>
/// <param name="Default">What an absent parameter means, as the parameter's text.</param>
public sealed record QueryParameterSpec(string Name, QueryType Type, string Description, bool Required = false,
    IReadOnlyList<string>? Values = null, long? Minimum = null, long? Maximum = null, string? Default = null)
{
    public static QueryParameterSpec Int32(string name, string description, int? minimum = null, int? maximum = null, int? @default = null) =>
        new(name, QueryType.Int32, description, Minimum: minimum, Maximum: maximum, Default: @default?.ToString(CultureInfo.InvariantCulture));

    public static QueryParameterSpec Int64(string name, string description, long? minimum = null, long? @default = null) =>
        new(name, QueryType.Int64, description, Minimum: minimum, Default: @default?.ToString(CultureInfo.InvariantCulture));

    public static QueryParameterSpec Boolean(string name, string description, bool @default = false) =>
        new(name, QueryType.Boolean, description, Default: @default ? "true" : "false");

    public static QueryParameterSpec String(string name, string description, bool required = false) =>
        new(name, QueryType.String, description, Required: required);

    public static QueryParameterSpec OneOf(string name, string description, params string[] values) =>
        new(name, QueryType.String, description, Values: values);

    /// <summary>As <see cref="OneOf"/>, meaning <paramref name="default"/> (one of the values) when absent.</summary>
    public static QueryParameterSpec OneOfWithDefault(string name, string description, string @default, params string[] values) =>
        values.Contains(@default, StringComparer.Ordinal)
            ? new(name, QueryType.String, description, Values: values, Default: @default)
            : throw new ArgumentException($"the default '{@default}' of query parameter '{name}' is not one of its values", nameof(@default));
}

public static class QueryParameterMetadata
{
    /// <summary>Declares the query parameters an endpoint reads (its OpenAPI parameters; what <see cref="QueryParameter"/> may read).</summary>
    public static TBuilder WithQuery<TBuilder>(this TBuilder builder, params QueryParameterSpec[] parameters) where TBuilder : IEndpointConventionBuilder
    {
        foreach (var parameter in parameters)
        {
            builder.WithMetadata(parameter);
        }
        return builder;
    }
}

/// <summary>
/// The query string, read by the handler from its text: a value that is not of the declared type (or not one of the
/// declared values) is 400 <c>PARAMETER_INVALID</c> naming the parameter and the rule, a required one absent 400
/// <c>PARAMETER_MISSING</c>. (Bound by the framework, such a value got a bare 400 with no body.) An empty value counts
/// as absent. Only a parameter declared on the endpoint with <see cref="QueryParameterMetadata.WithQuery"/> can be
/// read: reading another is a programming error (the document would not show it), refused on every request.
/// </summary>
public static class QueryParameter
{
    /// <summary>A whole number within the declared bounds (the type's when none); the declared default when absent, else null.</summary>
    public static int? Int(HttpContext http, string name) => (int?)Whole(http, name, QueryType.Int32, int.MinValue, int.MaxValue);

    /// <summary>As <see cref="Int"/>, for a parameter declared with a default: never null.</summary>
    public static int IntWithDefault(HttpContext http, string name) =>
        Int(http, name) ?? throw new InvalidOperationException($"query parameter '{name}' is read with its default but declares none");

    /// <summary>A whole number within the declared bounds (the type's when none); the declared default when absent, else null.</summary>
    public static long? Long(HttpContext http, string name) => Whole(http, name, QueryType.Int64, long.MinValue, long.MaxValue);

    /// <summary>As <see cref="Long"/>, for a parameter declared with a default: never null.</summary>
    public static long LongWithDefault(HttpContext http, string name) =>
        Long(http, name) ?? throw new InvalidOperationException($"query parameter '{name}' is read with its default but declares none");

    private static long? Whole(HttpContext http, string name, QueryType type, long typeMinimum, long typeMaximum)
    {
        var (spec, text) = Read(http, name, type);
        if ((text ?? spec.Default) is not { } given)
        {
            return null;
        }
        var (minimum, maximum) = (spec.Minimum ?? typeMinimum, spec.Maximum ?? typeMaximum);
        return long.TryParse(given, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= minimum && value <= maximum
            ? value
            : throw Invalid(name, given, $"a whole number from {minimum} to {maximum}");
    }

    /// <summary>True or false; the declared default (every Boolean parameter has one) when absent.</summary>
    public static bool Bool(HttpContext http, string name)
    {
        var text = Text(http, name, QueryType.Boolean) ?? throw new InvalidOperationException($"Boolean query parameter '{name}' declares no default");
        return bool.TryParse(text, out var value) ? value : throw Invalid(name, text, "true or false");
    }

    /// <summary>A string parameter; for one declared with values, the declared spelling of the value given; the declared default when absent.</summary>
    public static string? String(HttpContext http, string name) => Text(http, name, QueryType.String);

    /// <summary>As <see cref="String"/>, for a parameter declared with a default: never null.</summary>
    public static string StringWithDefault(HttpContext http, string name) =>
        String(http, name) ?? throw new InvalidOperationException($"query parameter '{name}' is read with its default but declares none");

    /// <summary>A parameter declared required: never null.</summary>
    public static string RequiredString(HttpContext http, string name) =>
        String(http, name) ?? throw new InvalidOperationException($"query parameter '{name}' is read as required but not declared required");

    /// <summary>The parameter's text as given, else its declared default, else null.</summary>
    private static string? Text(HttpContext http, string name, QueryType type)
    {
        var (spec, text) = Read(http, name, type);
        return text ?? spec.Default;
    }

    /// <summary>The declaration of <paramref name="name"/> and its text as given (null when absent; a declared value's own spelling).</summary>
    private static (QueryParameterSpec Spec, string? Text) Read(HttpContext http, string name, QueryType type)
    {
        var spec = Declared(http, name, type);
        var values = http.Request.Query[name];
        if (values.Count > 1)
        {
            throw Invalid(name, string.Join("&", values.Select(v => $"{name}={v}")), "given once");
        }
        var text = values.Count == 0 || string.IsNullOrWhiteSpace(values[0]) ? null : values[0];
        if (text is null)
        {
            return spec.Required
                ? throw ApiException.BadRequest(ApiErrorCodes.ParameterMissing, $"query parameter '{name}' is required: {spec.Description}")
                : (spec, null);
        }
        if (spec.Values is { } allowed)
        {
            return (spec, allowed.FirstOrDefault(value => string.Equals(value, text, StringComparison.OrdinalIgnoreCase))
                ?? throw Invalid(name, text, "one of " + string.Join(", ", allowed)));
        }
        return (spec, text);
    }

    /// <summary>The endpoint's declaration of <paramref name="name"/>, which must be of <paramref name="type"/>.</summary>
    private static QueryParameterSpec Declared(HttpContext http, string name, QueryType type)
    {
        var endpoint = http.GetEndpoint();
        var spec = endpoint?.Metadata.GetOrderedMetadata<QueryParameterSpec>().LastOrDefault(s => s.Name == name)
            ?? throw new InvalidOperationException(
                $"{endpoint?.DisplayName ?? http.Request.Path} reads query parameter '{name}' without declaring it (.WithQuery): /openapi/v1.json would not show it");
        return spec.Type == type
            ? spec
            : throw new InvalidOperationException($"{endpoint?.DisplayName} reads query parameter '{name}' as {type} but declares it {spec.Type}");
    }

    private static ApiException Invalid(string name, string text, string rule) =>
        ApiException.BadRequest(ApiErrorCodes.ParameterInvalid,
            $"query parameter '{name}' must be {rule}, not '{(text.Length > 100 ? text[..100] + "..." : text)}'");
}
