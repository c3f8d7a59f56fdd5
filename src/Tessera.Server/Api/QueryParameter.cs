using System.Globalization;

namespace Tessera.Server.Api;

/// <summary>
/// Numbers and booleans of the query string, read from their text by the handler: a value that is not of the type is
/// 400 <c>PARAMETER_INVALID</c> naming the parameter and the rule. (Bound by the framework, such a value got a bare 400
/// with no body.)
/// </summary>
internal static class QueryParameter
{
    public static int? Int(string? text, string name) =>
        text is null ? null
        : int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value
        : throw Invalid(name, text, $"a whole number from {int.MinValue} to {int.MaxValue}");

    public static long? Long(string? text, string name) =>
        text is null ? null
        : long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value
        : throw Invalid(name, text, $"a whole number from {long.MinValue} to {long.MaxValue}");

    public static bool? Bool(string? text, string name) =>
        text is null ? null
        : bool.TryParse(text, out var value) ? value
        : throw Invalid(name, text, "true or false");

    private static ApiException Invalid(string name, string text, string rule) =>
        ApiException.BadRequest(ApiErrorCodes.ParameterInvalid,
            $"query parameter '{name}' must be {rule}, not '{(text.Length > 100 ? text[..100] + "..." : text)}'");
}
