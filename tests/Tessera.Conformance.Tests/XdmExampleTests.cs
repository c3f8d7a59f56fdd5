using Tessera.Abstractions;
using Tessera.Ingestion;

namespace Tessera.Conformance.Tests;

/// <summary>
/// Adobe's XDM example documents, in their JSON-LD form (<c>xdm:</c> prefixes, <c>@id</c>,
/// <c>xdm:identityMap</c> with <c>xdm:id</c>), ingested as they are through the json format.
/// </summary>
/// <remarks>
/// The schemas declare every top-level field of the documents (typed where the value matters,
/// <c>open</c> objects for free-form bags) and keep the default <c>unknownFields: reject</c>, rather
/// than dropping what they do not know: that way the test proves that nothing in the documents is
/// silently lost, and a new field in an example would show up as a failure to look at.
/// The namespaces the documents use beyond the standard set (<c>EMAIL</c>, <c>AVID</c>) are created
/// in the sandbox first, as a user would; identityMap keys match namespace codes exactly.
/// </remarks>
[Trait("Category", "Conformance")]
public sealed class XdmExampleTests
{
    private const string ProfileSchema = """
        {"name":"xdm-profile","class":"profile","fields":{
          "xdm:person":{"type":"object","fields":{
            "xdm:name":{"type":"object","fields":{
              "xdm:firstName":{"type":"string"},"xdm:middleName":{"type":"string"},"xdm:lastName":{"type":"string"},"xdm:fullName":{"type":"string"}}},
            "xdm:birthDayAndMonth":{"type":"string","pattern":"^[0-9]{2}-[0-9]{2}$"},
            "xdm:gender":{"type":"string","enum":["male","female","not_specified","non_specific"]}}},
          "xdm:workAddress":{"type":"object","fields":{
            "@id":{"type":"string"},"xdm:primary":{"type":"bool"},"xdm:street1":{"type":"string"},"xdm:city":{"type":"string"},
            "xdm:stateProvince":{"type":"string"},"xdm:postalCode":{"type":"string"},"xdm:country":{"type":"string"},
            "xdm:countryCode":{"type":"string","pattern":"^[A-Z]{2}$"},
            "schema:latitude":{"type":"double","min":-90,"max":90},"schema:longitude":{"type":"double","min":-180,"max":180},
            "xdm:status":{"type":"string","enum":["active","incomplete","pending_verification","blacklisted","blocked"]},
            "xdm:lastVerifiedDate":{"type":"date"}}},
          "xdm:workEmail":{"type":"object","fields":{
            "xdm:primary":{"type":"bool"},"xdm:address":{"type":"string"},"xdm:label":{"type":"string"},"xdm:type":{"type":"string"},"xdm:status":{"type":"string"}}},
          "xdm:mobilePhone":{"type":"object","fields":{"xdm:primary":{"type":"bool"},"xdm:number":{"type":"string"},"xdm:status":{"type":"string"}}},
          "xdm:optInOut":{"type":"object","open":true},
          "xdm:orgUnit":{"type":"object","fields":{"@id":{"type":"string"}}},
          "xdm:geoUnit":{"type":"object","fields":{"@id":{"type":"string"}}},
          "xdm:segments":{"type":"array","items":{"type":"object","fields":{
            "xdm:segmentID":{"type":"object","open":true},
            "xdm:version":{"type":"string"},
            "xdm:timestamp":{"type":"date-time"},
            "xdm:validUntil":{"type":"date-time"},
            "xdm:lastQualificationTime":{"type":"date-time"},
            "xdm:status":{"type":"string","enum":["existing","realized","exited"]}}}}}}
        """;

    /// <summary>
    /// The event's own id and time are the document's <c>@id</c> and <c>xdm:timestamp</c> (the XDM
    /// ExperienceEvent requires both), which Tessera reads as <c>_id</c> and <c>timestamp</c>.
    /// </summary>
    private const string EventSchema = """
        {"name":"xdm-events","class":"event","fields":{
          "xdm:dataSource":{"type":"object","fields":{"@id":{"type":"string"},"xdm:code":{"type":"string"}}},
          "xdm:eventMergeId":{"type":"string"},
          "xdm:channel":{"type":"object","open":true},
          "xdm:environment":{"type":"object","fields":{
            "xdm:type":{"type":"string","enum":["browser","application","iot","external","widget"]},
            "xdm:browserDetails":{"type":"object","open":true,"fields":{"xdm:viewportHeight":{"type":"int","min":0},"xdm:viewportWidth":{"type":"int","min":0}}},
            "xdm:operatingSystem":{"type":"string"},"xdm:operatingSystemVersion":{"type":"string"},"xdm:connectionType":{"type":"string"}}},
          "xdm:productListItems":{"type":"array","items":{"type":"object","fields":{
            "xdm:SKU":{"type":"string"},"xdm:lineItemId":{"type":"string"},"xdm:name":{"type":"string"},
            "xdm:currencyCode":{"type":"string","pattern":"^[A-Z]{3}$"},"xdm:quantity":{"type":"int","min":0},"xdm:priceTotal":{"type":"double","min":0}}}},
          "xdm:commerce":{"type":"object","open":true},
          "xdm:placeContext":{"type":"object","open":true},
          "xdm:locationContext":{"type":"object","open":true},
          "xdm:web":{"type":"object","open":true},
          "xdm:device":{"type":"object","fields":{"xdm:type":{"type":"string"},"xdm:manufacturer":{"type":"string"},"xdm:model":{"type":"string"}}},
          "xdm:advertising":{"type":"object","open":true},
          "xdm:marketing":{"type":"object","open":true},
          "xdm:profileStitch":{"type":"array","items":{"type":"object","open":true}},
          "xdm:segmentMemberships":{"type":"array","items":{"type":"object","open":true}}}}
        """;

    private static async Task<ConformanceWorkspace> XdmAsync()
    {
        var test = await ConformanceWorkspace.CreateAsync();
        await test.CreateNamespaceAsync("EMAIL", IdentityType.Email);
        await test.CreateNamespaceAsync("AVID", IdentityType.Cookie);
        await test.DefineAsync(ProfileSchema);
        await test.DefineAsync(EventSchema);
        return test;
    }

    [Fact]
    public async Task The_profile_example_ingests_as_is()
    {
        var path = SharedDatasets.Require("xdm_examples/components_classes_profile.example.1.json");
        await using var test = await XdmAsync();

        var batch = await test.Ingestion.IngestFileAsync("prod", "xdm-profile", path);

        Assert.True(batch.Counts.Failed == 0, ConformanceWorkspace.Describe(test.Quarantine(batch.Id)));
        Assert.Equal((1L, 1L), (batch.Counts.Input, batch.Counts.Accepted));
        // No identity is flagged primary: the first of the identityMap keys the profile fragment.
        var fact = Assert.Single(test.FactsOf(FactKeys.RecordTag, "ECID", "92312748749128"));
        var record = fact.GetProperty("record");
        Assert.Equal("Jane F. Doe", record.GetProperty("xdm:person").GetProperty("xdm:name").GetProperty("xdm:fullName").GetString());
        Assert.Equal("2018-01-02", record.GetProperty("xdm:workAddress").GetProperty("xdm:lastVerifiedDate").GetString());
        Assert.Equal("2018-04-26T15:52:25.000Z", record.GetProperty("xdm:segments")[0].GetProperty("xdm:timestamp").GetString());
        Assert.Equal("pending", record.GetProperty("xdm:optInOut").GetProperty("https://ns.adobe.com/xdm/channels/email").GetString());
        Assert.Equal([("ECID", "92312748749128"), ("EMAIL", "jane@doe.com")],
            fact.GetProperty("identities").EnumerateArray().Select(i => (i.GetProperty("namespace").GetString(), i.GetProperty("id").GetString())));
    }

    [Fact]
    public async Task The_second_experience_event_example_ingests_as_is()
    {
        var path = SharedDatasets.Require("xdm_examples/components_classes_experienceevent.example.2.json");
        await using var test = await XdmAsync();

        var batch = await test.Ingestion.IngestFileAsync("prod", "xdm-events", path);

        Assert.True(batch.Counts.Failed == 0, ConformanceWorkspace.Describe(test.Quarantine(batch.Id)));
        Assert.Equal((1L, 1L), (batch.Counts.Input, batch.Counts.Accepted));
        var fact = Assert.Single(test.FactsOf(FactKeys.EventTag, "ECID", "92312748749128"));
        var record = fact.GetProperty("record");
        Assert.Equal("https://data.adobe.io/experienceid-2345678", record.GetProperty("_id").GetString());
        Assert.Equal("2017-09-26T15:52:25.000Z", record.GetProperty("timestamp").GetString());
        Assert.Equal("iPhone 6", record.GetProperty("xdm:device").GetProperty("xdm:model").GetString());

        var again = await test.Ingestion.IngestFileAsync("prod", "xdm-events", path);
        Assert.Equal(1, again.Counts.Duplicates);
    }

    /// <summary>
    /// The first experience-event example keys its identityMap by Adobe's numeric namespace ids
    /// (<c>https://data.adobe.io/entities/namespace/4</c> is ECID; 9 is TNTID and 10 is AAID in
    /// Adobe's registry). ECID carries its id in the standard set; TNTID and AAID are created here
    /// with theirs, as a team moving from Adobe would. The identities are stored under the codes.
    /// </summary>
    [Fact]
    public async Task The_first_experience_event_example_ingests_with_numeric_namespace_ids()
    {
        var path = SharedDatasets.Require("xdm_examples/components_classes_experienceevent.example.1.json");
        await using var test = await XdmAsync();
        await test.Catalog.CreateNamespaceAsync("prod", new IdentityNamespace { Code = "TNTID", Name = "Adobe Target id", Type = IdentityType.Cookie, NumericId = 9 });
        await test.Catalog.CreateNamespaceAsync("prod", new IdentityNamespace { Code = "AAID", Name = "Adobe Analytics id", Type = IdentityType.Cookie, NumericId = 10 });

        var batch = await test.Ingestion.IngestFileAsync("prod", "xdm-events", path);

        Assert.True(batch.Counts.Failed == 0, ConformanceWorkspace.Describe(test.Quarantine(batch.Id)));
        var (_, fact) = Assert.Single(test.Facts());
        Assert.Equal([("AAID", "2394509340-30453470347"), ("ECID", "92312748749128"), ("TNTID", "1233ce17-20e0-4a2c-8198-2a77fd60cf4d")],
            fact.GetProperty("identities").EnumerateArray().Select(i => (i.GetProperty("namespace").GetString(), i.GetProperty("id").GetString())).Order());
    }

    [Fact]
    public async Task A_numeric_namespace_id_nobody_carries_is_refused_naming_the_entry()
    {
        var path = SharedDatasets.Require("xdm_examples/components_classes_experienceevent.example.1.json");
        await using var test = await XdmAsync();

        var batch = await test.Ingestion.IngestFileAsync("prod", "xdm-events", path);

        var entry = Assert.Single(test.Quarantine(batch.Id));
        Assert.Equal(
            ["xdm:identityMap.https://data.adobe.io/entities/namespace/10", "xdm:identityMap.https://data.adobe.io/entities/namespace/9"],
            entry.Errors.Select(e => e.Path).Order(StringComparer.Ordinal));
        Assert.All(entry.Errors, e => Assert.Equal(ErrorCodes.UnknownNamespace, e.Code));
        Assert.Empty(test.Facts());
    }
}
