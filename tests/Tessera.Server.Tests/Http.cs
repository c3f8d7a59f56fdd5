using System.Net;
using System.Text;
using System.Text.Json;

namespace Tessera.Server.Tests;

/// <summary>Small helpers for requests and JSON answers.</summary>
public static class Http
{
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <summary>Asserts the status and returns the JSON body (the body is in the failure message).</summary>
    public static async Task<JsonElement> ExpectAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <summary>Asserts an error answer: the status and the error code.</summary>
    public static async Task<JsonElement> ExpectErrorAsync(this HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.ExpectAsync(status);
        var error = body.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        return error;
    }

    public static string Str(this JsonElement element, string property) => element.GetProperty(property).GetString()!;

    public static long Long(this JsonElement element, string property) => element.GetProperty(property).GetInt64();
}
