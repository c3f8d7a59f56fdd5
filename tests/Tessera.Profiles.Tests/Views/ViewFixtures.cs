using System.Text.Json;
using Tessera.Abstractions;
using Tessera.Identity.Graph;
using Tessera.Profiles.Fragments;
using Tessera.Profiles.Views;

namespace Tessera.Profiles.Tests.Views;

internal static class ViewFixtures
{
    public static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>name (whole), address (object), tags (union array), prefs (union map), scores (array, whole).</summary>
    public static readonly FieldShape Shape = FieldShape.Of(new Dictionary<string, FieldKind>
    {
        ["address"] = FieldKind.Object,
        ["tags"] = FieldKind.UnionArray,
        ["prefs"] = FieldKind.UnionMap,
    });

    public static RecordVersion Version(string json, int minute, long order = 0, string batch = "b1") =>
        new(new Stamp(Start.AddMinutes(minute).UtcTicks, order, 0), batch, RecordVersion.Flatten(JsonDocument.Parse(json).RootElement, Shape));

    public static MergeRule Timestamp(params string[] datasets) => new(new MergePolicy { Name = "ts" }, datasets);

    public static MergeRule Precedence(string[] order, params string[] datasets) =>
        new(new MergePolicy { Name = "prec", AttributeMerge = AttributeMerge.DatasetPrecedence, Datasets = order }, datasets);

    public static IdentityKey Id(string text) => IdentityKey.TryParse(text, out var key) ? key : throw new ArgumentException(text);

    /// <summary>A merged profile as one comparable string: path=json@dataset/identity/batch/stamp, sorted.</summary>
    public static string Describe(IReadOnlyDictionary<string, MergedValue> attributes) =>
        string.Join(" ", attributes.OrderBy(a => a.Key, StringComparer.Ordinal)
            .Select(a => $"{a.Key}={a.Value.Json}@{a.Value.Dataset}/{a.Value.Identity}/{a.Value.Batch}/{a.Value.Stamp.Ticks}.{a.Value.Stamp.Order}"));
}
