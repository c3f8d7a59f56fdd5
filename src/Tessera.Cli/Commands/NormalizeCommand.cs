using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Tessera.Activation.Hashing;

namespace Tessera.Cli.Commands;

/// <summary>
/// <c>tessera identity normalize --namespace email|phone --for PLATFORM VALUE</c>: a value normalized
/// the way a platform asks, with its SHA-256 in hex and Base64 (docs/destinations-hashing.md).
/// No workspace needed.
/// </summary>
internal static class NormalizeCommand
{
    public static Command AddTo(Command identity) => identity.With(Create());

    private static Command Create()
    {
        var value = new Argument<string>("value") { Description = "The email address or phone number" };
        var kind = new Option<string>("--namespace") { Description = "What the value is: email or phone", Required = true };
        kind.AcceptOnlyFromAmong("email", "phone");
        var platform = new Option<string>("--for") { Description = "The platform whose rules apply: meta, google, tiktok, ttd (UID2) or linkedin", Required = true };
        platform.AcceptOnlyFromAmong("meta", "google", "tiktok", "ttd", "linkedin");
        var region = new Option<string?>("--region") { Description = "Region of phone numbers written without a country code (default US)" };
        var command = new Command("normalize", "Normalize an email or phone number for an ad platform and print its SHA-256 (hex and Base64)") { value, kind, platform, region };
        command.SetAction(parse =>
        {
            PlatformNormalizer normalizer;
            try
            {
                normalizer = parse.GetValue(region) is { } r ? new PlatformNormalizer(r) : PlatformNormalizer.Default;
            }
            catch (ArgumentException error)
            {
                return CommandExtensions.Fail("REGION_INVALID", error.Message);
            }
            var keyKind = parse.GetValue(kind) == "phone" ? KeyKind.Phone : KeyKind.Email;
            var target = KeyHashing.ParsePlatform(parse.GetValue(platform)!)!.Value;
            var hashed = KeyHashing.Hash(normalizer, target, keyKind, parse.GetValue(value)!, out var problem);
            if (hashed is null)
            {
                return CommandExtensions.Fail(keyKind == KeyKind.Phone ? "IDENTITY_INVALID_PHONE" : "IDENTITY_INVALID_EMAIL", problem!);
            }
            if (parse.GetValue(CommonOptions.Json))
            {
                PrintJson(hashed);
                return ExitCodes.Ok;
            }
            Console.Out.WriteLine($"normalized     {hashed.Normalized}");
            Console.Out.WriteLine($"sha256 hex     {hashed.Sha256Hex}");
            Console.Out.WriteLine($"sha256 base64  {hashed.Sha256Base64}");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Exactly <c>{"normalized", "sha256Hex", "sha256Base64"}</c>; '+' and '/' of Base64 written as they are, not \u-escaped.</summary>
    private static void PrintJson(HashedKey hashed)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("normalized", hashed.Normalized);
            writer.WriteString("sha256Hex", hashed.Sha256Hex);
            writer.WriteString("sha256Base64", hashed.Sha256Base64);
            writer.WriteEndObject();
        }
        stdout.Write("\n"u8);
    }
}

