using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Tessera.Abstractions;
using Tessera.Identity.Graph;
using Tessera.Profiles.Fragments;
using Tessera.Profiles.Views;

namespace Tessera.Benchmarks.Micro;

/// <summary>
/// Building a unified profile from its stored facts, as a cache miss of a profile lookup does
/// (<c>ProfileService.Load</c>): the end-to-end runner's heavy profile, three identities (CRMID,
/// Email, ECID) with ten record versions under the CRMID, one per dataset (a CRM record of seven
/// fields, nine others of five), and 500 events. Each stored version is parsed
/// (<see cref="RecordVersion.Parse"/>) and folded into its fragment, then the fragments are merged
/// under the built-in timestamp policy; with the timeline, its events are added and read newest first.
/// </summary>
[MemoryDiagnoser]
public class ProfileViewBenchmarks
{
    private const int Fragments = 10;
    private const int Events = 500;
    private const string CrmSchemaJson = """
        {"name":"crm","class":"profile","fields":{
          "crmId":{"type":"string","required":true,"identity":{"namespace":"CRMID","primary":true}},
          "email":{"type":"string","identity":{"namespace":"Email"}},
          "firstName":{"type":"string"},"lastName":{"type":"string"},"tier":{"type":"string"},
          "points":{"type":"int"},"city":{"type":"string"},"source":{"type":"string"}}}
        """;

    private static readonly DateTimeOffset Start = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly IdentityKey _crmId = new("CRMID", "10000042");
    private readonly IdentityKey _ecid = new("ECID", "K42");
    private IdentityKey[] _members = null!;
    private FieldShape _shape = null!;
    private (string Dataset, byte[] Stored)[] _versions = null!;
    private (string Dataset, string EventId, long Ticks)[] _events = null!;
    private MergeRule _rule = null!;
    private TimelinePolicy _timeline = null!;

    [GlobalSetup]
    public void Setup()
    {
        _members = [_crmId, new IdentityKey("Email", "p42@example.com"), _ecid];
        _shape = FieldShape.Of(Fixtures.Compile(CrmSchemaJson));
        var random = new Random(20_261_128);
        _versions = new (string, byte[])[Fragments];
        _versions[0] = ("crm", Stored("""{"crmId":"10000042","email":"p42@example.com","firstName":"First42","lastName":"Last42","tier":"gold","points":4042,"city":"City42"}""", 0));
        for (var d = 1; d < Fragments; d++)
        {
            _versions[d] = ($"src{d}", Stored($$"""{"crmId":"10000042","tier":"tier{{d}}","points":{{d * 10 + random.Next(7)}},"city":"Town{{d}}-{{random.Next(11)}}","source":"source {{d}}"}""", d));
        }
        _events = [.. Enumerable.Range(0, Events).Select(k => ("web", $"h42-{k}", Start.AddMinutes(k * 7 + random.Next(5)).UtcTicks))];
        _rule = new MergeRule(MergePolicy.BuiltInDefault, [.. _versions.Select(v => v.Dataset), "web"]);
        _timeline = new TimelinePolicy(dataset => dataset == "web", _ => null, Start.AddDays(30), cap: 10_000);
        var attributes = Fold().Attributes(_rule);
        if (attributes.Count != 8 || attributes["tier"].Json != "\"tier9\"")
        {
            throw new InvalidOperationException($"the merged profile is not as expected: {string.Join(", ", attributes.Select(a => $"{a.Key}={a.Value.Json}"))}");
        }
    }

    /// <summary>One stored CRM record version (seven fields) to its flattened writes.</summary>
    [Benchmark]
    public RecordVersion ParseVersion() => RecordVersion.Parse(_versions[0].Stored, _shape);

    /// <summary>Ten stored versions parsed and folded into their fragments, then merged.</summary>
    [Benchmark]
    public int FoldAndMerge() => Fold().Attributes(_rule).Count;

    /// <summary>The same, with 500 events added to the timeline and read newest first.</summary>
    [Benchmark]
    public int FoldMergeAndTimeline()
    {
        var view = Fold();
        foreach (var (dataset, eventId, ticks) in _events)
        {
            view.AddEvent(_ecid, dataset, eventId, ticks);
        }
        return view.Attributes(_rule).Count + view.ReadTimeline(_timeline).Summary.Events;
    }

    private ProfileView Fold()
    {
        var view = new ProfileView(_members);
        foreach (var (dataset, stored) in _versions)
        {
            view.ApplyVersion(dataset, _crmId, RecordVersion.Parse(stored, _shape));
        }
        return view;
    }

    /// <summary>A record version as ingestion stores it.</summary>
    private static byte[] Stored(string record, int order)
    {
        var time = Start.AddHours(order).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        return Encoding.UTF8.GetBytes($$"""{"record":{{record}},"identities":[{"namespace":"CRMID","id":"10000042","primary":true}],"batch":"b{{order}}","ingestedAt":"{{time}}","time":"{{time}}","order":{{order + 1}},"row":1}""");
    }
}
