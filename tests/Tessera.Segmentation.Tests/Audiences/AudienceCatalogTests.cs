using System.Text.Json;
using Tessera.Abstractions;
using Tessera.Segmentation.Audiences;
using static Tessera.Segmentation.Tests.Audiences.AudienceWorkspace;

namespace Tessera.Segmentation.Tests.Audiences;

/// <summary>The audience catalog over a real workspace: lifecycle, checks, dependencies, limits (docs/segmentation.md).</summary>
public sealed class AudienceCatalogTests
{
    private static async Task<CatalogException> Refused(string code, Func<Task> action)
    {
        var error = await Assert.ThrowsAsync<CatalogException>(action);
        Assert.Equal(code, error.Code);
        return error;
    }

    private static string Json(Audience audience) => JsonSerializer.Serialize(audience, AudienceJson.Default.Audience);

    [Fact]
    public async Task An_audience_goes_from_draft_to_published_to_inactive_to_deleted()
    {
        await using var w = await CreateAsync();
        var created = await w.Audiences.CreateAsync("prod", "gold", Edge, "gold tier members");
        Assert.Equal(AudienceState.Draft, created.State);
        Assert.Equal(1, created.Version);
        Assert.Equal(Start, created.CreatedAt);
        Assert.True(Guid.TryParse(created.Id, out _));
        Assert.Equal("gold tier members", created.Description);
        Assert.Null(created.MergePolicy);

        w.Time.Advance(TimeSpan.FromMinutes(5));
        var published = await w.Audiences.PublishAsync("prod", "gold");
        Assert.Equal(AudienceState.Published, published.State);
        Assert.Equal(2, published.Version);
        Assert.Equal(Start.AddMinutes(5), published.UpdatedAt);
        Assert.Equal(Start, published.CreatedAt);
        Assert.Equal(Json(published), Json(await w.Audiences.PublishAsync("prod", created.Id))); // Publishing again changes nothing.

        var inactive = await w.Audiences.DeactivateAsync("prod", created.Id);
        Assert.Equal(AudienceState.Inactive, inactive.State);
        Assert.Equal(AudienceState.Published, (await w.Audiences.PublishAsync("prod", "gold")).State);

        var deleted = await w.Audiences.DeleteAsync("prod", "gold");
        Assert.Equal(AudienceState.Deleted, deleted.State);
        Assert.Equal(Json(deleted), Json(await w.Audiences.DeleteAsync("prod", created.Id))); // Idempotent.
        Assert.Null(w.Audiences.Get("prod", "gold")); // The name is free again ...
        Assert.Equal(AudienceState.Deleted, w.Audiences.Get("prod", created.Id)!.State); // ... the id still names the record.
        Assert.Empty(w.Audiences.List("prod"));
        Assert.Single(w.Audiences.List("prod", AudienceState.Deleted));

        var again = await w.Audiences.CreateAsync("prod", "gold", Edge);
        Assert.NotEqual(created.Id, again.Id);
        await Refused("AUDIENCE_STATE_INVALID", () => w.Audiences.PublishAsync("prod", created.Id));
        await Refused("AUDIENCE_STATE_INVALID", () => w.Audiences.UpdateAsync("prod", created.Id, description: "x"));
        await Refused("AUDIENCE_STATE_INVALID", () => w.Audiences.DeactivateAsync("prod", again.Id)); // A draft is not deactivated.
    }

    [Fact]
    public async Task List_filters_by_state_and_audiences_survive_a_reopen()
    {
        await using var w = await CreateAsync();
        await w.CreateAsync("a", Edge, publish: true);
        await w.CreateAsync("b", Batch);
        w.Time.Advance(TimeSpan.FromSeconds(1));
        await w.CreateAsync("c", Streaming, publish: true);
        await w.ReopenAsync();
        Assert.Equal(["a", "b", "c"], w.Audiences.List("prod").Select(a => a.Name));
        Assert.Equal(["a", "c"], w.Audiences.List("prod", AudienceState.Published).Select(a => a.Name));
        Assert.Equal(["b"], w.Audiences.List("prod", AudienceState.Draft).Select(a => a.Name));
        Assert.Equal("streaming", w.Audiences.Require("prod", "c").Mode);
    }

    [Fact]
    public async Task The_classifier_chooses_the_mode_and_the_reasons_are_kept()
    {
        await using var w = await CreateAsync();
        var edge = await w.CreateAsync("edge", Edge);
        Assert.Equal(("edge", true), (edge.Mode, edge.ProfileOnly));
        Assert.Contains("profile attributes only", edge.Reasons[0], StringComparison.Ordinal);
        Assert.Equal("tier = \"gold\"", edge.Canonical);

        var edgeEvent = await w.CreateAsync("edge-event", EdgeEvent);
        Assert.Equal(("edge", false), (edgeEvent.Mode, edgeEvent.ProfileOnly));
        Assert.Contains("one event within 24 hours", edgeEvent.Reasons[0], StringComparison.Ordinal);

        var streaming = await w.CreateAsync("streaming", Streaming);
        Assert.Equal(("streaming", false), (streaming.Mode, streaming.ProfileOnly));

        var filter = await w.CreateAsync("filter", "xEvent[eventType = \"view\" and timestamp occurs today]");
        Assert.Equal("edge", filter.Mode); // An array as the condition: some event matches.

        var batch = await w.CreateAsync("batch", Batch);
        Assert.Equal("batch", batch.Mode);
        Assert.Contains("no time window", batch.Reasons[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task inSegment_dependencies_are_recorded_and_classified_by_what_they_read()
    {
        await using var w = await CreateAsync();
        await w.CreateAsync("profile", Edge);
        await w.CreateAsync("events", Streaming);
        var reader = await w.CreateAsync("reader", "inSegment(\"profile\") and " + EdgeEvent);
        Assert.Equal(["profile"], reader.DependsOn);
        Assert.Equal("edge", reader.Mode); // A profile-only audience counts as a profile attribute beside one event.
        Assert.False(reader.ProfileOnly);

        var both = await w.CreateAsync("both", "inSegment(\"events\") and inSegment(\"profile\") and inSegment(\"events\")");
        Assert.Equal(["events", "profile"], both.DependsOn);
        Assert.Equal("streaming", both.Mode);
        Assert.Contains("refers to a streaming audience", both.Reasons[0], StringComparison.Ordinal);

        var mixed = await w.CreateAsync("mixed", "inSegment(\"events\") and " + EdgeEvent);
        Assert.Equal("batch", mixed.Mode);
    }

    [Fact]
    public async Task Changing_an_audience_classifies_its_readers_again()
    {
        await using var w = await CreateAsync();
        await w.CreateAsync("base", Edge);
        await w.CreateAsync("middle", "inSegment(\"base\")");
        await w.CreateAsync("top", "age > 30 and inSegment(\"middle\")");
        Assert.Equal("edge", w.Audiences.Require("prod", "top").Mode);
        var version = w.Audiences.Version;

        await w.Audiences.UpdateAsync("prod", "base", pql: Streaming);
        Assert.Equal("streaming", w.Audiences.Require("prod", "base").Mode);
        Assert.Equal("streaming", w.Audiences.Require("prod", "middle").Mode);
        Assert.Equal("streaming", w.Audiences.Require("prod", "top").Mode); // Through middle, two steps away.
        Assert.Contains("refers to a streaming audience", w.Audiences.Require("prod", "top").Reasons[0], StringComparison.Ordinal);
        Assert.Equal(2, w.Audiences.Require("prod", "middle").Version);
        Assert.NotEqual(version, w.Audiences.Version);
    }

    [Fact]
    public async Task Update_changes_the_expression_description_and_merge_policy()
    {
        await using var w = await CreateAsync();
        await w.Workspace.Catalog.CreateMergePolicyAsync("prod", new MergePolicy { Name = "stitched" }, 5);
        await w.CreateAsync("a", Edge);
        w.Time.Advance(TimeSpan.FromMinutes(1));
        var updated = await w.Audiences.UpdateAsync("prod", "a", pql: Batch, description: "viewers", mergePolicy: "stitched");
        Assert.Equal((Batch, "batch", "viewers", "stitched", 2), (updated.Pql, updated.Mode, updated.Description, updated.MergePolicy, updated.Version));
        Assert.Equal(Start.AddMinutes(1), updated.UpdatedAt);
        Assert.Equal(Json(updated), Json(await w.Audiences.UpdateAsync("prod", "a", pql: Batch))); // Nothing changes: nothing written.
        var cleared = await w.Audiences.UpdateAsync("prod", "a", description: "", mergePolicy: "");
        Assert.Null(cleared.Description);
        Assert.Null(cleared.MergePolicy);
        await Refused("MERGE_POLICY_NOT_FOUND", () => w.Audiences.UpdateAsync("prod", "a", mergePolicy: "nope"));
        await Refused("MERGE_POLICY_NOT_FOUND", () => w.Audiences.CreateAsync("prod", "b", Edge, mergePolicy: "nope"));
        Assert.Equal("stitched", (await w.CreateAsync("c", Edge, false, "stitched")).MergePolicy);
    }

    [Fact]
    public async Task Published_lists_dependencies_first_with_a_version_that_moves_on_every_write()
    {
        await using var w = await CreateAsync();
        await w.CreateAsync("a", Edge);
        await w.CreateAsync("b", Edge);
        await w.CreateAsync("c", "inSegment(\"b\")");
        await w.Audiences.UpdateAsync("prod", "a", pql: "inSegment(\"c\") and inSegment(\"b\")"); // a (oldest) now reads c, which reads b.
        await w.CreateAsync("d", Edge);
        foreach (var name in new[] { "b", "c", "a", "d" })
        {
            await w.Audiences.PublishAsync("prod", name);
        }
        var published = w.Audiences.Published("prod");
        Assert.Equal(["b", "c", "a", "d"], published.Audiences.Select(a => a.Name));
        Assert.Same(published, w.Audiences.Published("prod")); // Nothing written: the same list.

        await w.Audiences.DeactivateAsync("prod", "d");
        var after = w.Audiences.Published("prod");
        Assert.NotEqual(published.Version, after.Version);
        Assert.Equal(["b", "c", "a"], after.Audiences.Select(a => a.Name));
    }

    [Fact]
    public async Task Cycles_are_refused_naming_the_audiences_on_them()
    {
        await using var w = await CreateAsync();
        var self = await Refused("AUDIENCE_CYCLE", () => w.Audiences.CreateAsync("prod", "self", "inSegment(\"self\")", id: "self"));
        Assert.Contains("reads itself", self.Message, StringComparison.Ordinal);

        await w.CreateAsync("a", Edge);
        await w.CreateAsync("b", "inSegment(\"a\")");
        await w.CreateAsync("c", "inSegment(\"b\")");
        var cycle = await Refused("AUDIENCE_CYCLE", () => w.Audiences.UpdateAsync("prod", "a", pql: "inSegment(\"c\")"));
        Assert.Contains("a → c → b → a", cycle.Message, StringComparison.Ordinal);
        await Refused("AUDIENCE_CYCLE", () => w.Audiences.UpdateAsync("prod", "b", pql: "inSegment(\"b\")"));
        Assert.Equal(Edge, w.Audiences.Require("prod", "a").Pql); // Nothing was written.
    }

    [Fact]
    public async Task An_audience_that_another_reads_is_not_deleted_or_deactivated()
    {
        await using var w = await CreateAsync();
        await w.CreateAsync("base", Edge, publish: true);
        await w.CreateAsync("reader", "inSegment(\"base\")");
        var inUse = await Refused("AUDIENCE_IN_USE", () => w.Audiences.DeleteAsync("prod", "base"));
        Assert.Contains("'reader' (reader)", inUse.Message, StringComparison.Ordinal);

        await w.Audiences.DeactivateAsync("prod", "base"); // A draft reader does not hold it.
        await w.Audiences.PublishAsync("prod", "base");
        await w.Audiences.PublishAsync("prod", "reader");
        var published = await Refused("AUDIENCE_IN_USE", () => w.Audiences.DeactivateAsync("prod", "base"));
        Assert.Contains("'reader'", published.Message, StringComparison.Ordinal);

        await w.Audiences.DeleteAsync("prod", "reader");
        Assert.Equal(AudienceState.Deleted, (await w.Audiences.DeleteAsync("prod", "base")).State);
    }

    [Fact]
    public async Task A_published_audience_reads_only_published_audiences()
    {
        await using var w = await CreateAsync();
        await w.CreateAsync("base", Edge);
        await w.CreateAsync("reader", "inSegment(\"base\")");
        var error = await Refused("AUDIENCE_DEPENDENCY_NOT_PUBLISHED", () => w.Audiences.PublishAsync("prod", "reader"));
        Assert.Contains("'base' (base, draft)", error.Message, StringComparison.Ordinal);

        await w.CreateAsync("other", Edge);
        await w.Audiences.PublishAsync("prod", "base");
        await w.Audiences.PublishAsync("prod", "reader");
        await Refused("AUDIENCE_DEPENDENCY_NOT_PUBLISHED", () => w.Audiences.UpdateAsync("prod", "reader", pql: "inSegment(\"other\")"));
    }

    [Fact]
    public async Task Expressions_are_parsed_and_checked_against_the_sandbox_schemas()
    {
        await using var w = await CreateAsync();
        var syntax = await Refused("PQL_INVALID", () => w.Audiences.CreateAsync("prod", "a", "tier = \"gold\" and\n  (age >"));
        Assert.Contains("line 2, column", syntax.Message, StringComparison.Ordinal);

        var types = await Refused("PQL_INVALID", () => w.Audiences.CreateAsync("prod", "a", "age = \"ten\" and tierr = \"gold\""));
        Assert.Contains("line 1, column 1", types.Message, StringComparison.Ordinal);
        Assert.Contains("tierr", types.Message, StringComparison.Ordinal);
        Assert.Contains("; ", types.Message, StringComparison.Ordinal); // Both errors.

        var notCondition = await Refused("PQL_INVALID", () => w.Audiences.CreateAsync("prod", "a", "age + 1"));
        Assert.Contains("not a boolean", notCondition.Message, StringComparison.Ordinal);

        var computed = await Refused("PQL_INVALID", () => w.Audiences.CreateAsync("prod", "a", "inSegment(tier)"));
        Assert.Contains("string literal", computed.Message, StringComparison.Ordinal);

        await w.CreateAsync("a", Edge);
        await Refused("PQL_INVALID", () => w.Audiences.UpdateAsync("prod", "a", pql: "age >"));
    }

    [Fact]
    public async Task Without_schemas_every_field_is_accepted()
    {
        await using var w = await CreateAsync(schemas: false);
        Assert.Equal("edge", (await w.CreateAsync("a", "anything.at.all = 3")).Mode);
    }

    [Fact]
    public async Task Unknown_objects_and_names_in_use_are_refused()
    {
        await using var w = await CreateAsync();
        await Refused("SANDBOX_NOT_FOUND", () => w.Audiences.CreateAsync("nope", "a", Edge));
        await Refused("NAME_INVALID", () => w.Audiences.CreateAsync("prod", "gold members", Edge));
        await Refused("AUDIENCE_INVALID", () => w.Audiences.CreateAsync("prod", "a", Edge, id: "bad id"));
        await Refused("AUDIENCE_NOT_FOUND", () => w.Audiences.PublishAsync("prod", "missing"));
        Assert.Throws<CatalogException>(() => w.Audiences.Require("prod", "missing"));

        var gold = await w.Audiences.CreateAsync("prod", "gold", Edge);
        var notFound = await Refused("AUDIENCE_NOT_FOUND", () => w.Audiences.CreateAsync("prod", "r", "inSegment(\"gold\")"));
        Assert.Contains($"has id '{gold.Id}'", notFound.Message, StringComparison.Ordinal); // inSegment takes ids; the message says which.

        await Refused("AUDIENCE_EXISTS", () => w.Audiences.CreateAsync("prod", "gold", Batch));
        await Refused("AUDIENCE_EXISTS", () => w.Audiences.CreateAsync("prod", "other", Batch, id: gold.Id));
        await Refused("AUDIENCE_EXISTS", () => w.Audiences.CreateAsync("prod", "other", Batch, id: "gold")); // An id that is another's name.

        await w.Audiences.DeleteAsync("prod", "gold");
        await Refused("AUDIENCE_NOT_FOUND", () => w.Audiences.CreateAsync("prod", "r", $"inSegment(\"{gold.Id}\")")); // Deleted audiences are not read.
        await Refused("AUDIENCE_EXISTS", () => w.Audiences.CreateAsync("prod", "other", Batch, id: gold.Id)); // Ids are not reused.

        await w.CreateAsync("silver", Edge); // Its id is "silver" too.
        await w.Audiences.DeleteAsync("prod", "silver");
        var hidden = await Refused("AUDIENCE_EXISTS", () => w.Audiences.CreateAsync("prod", "silver", Edge)); // Get("silver") would find the deleted one.
        Assert.Contains("(deleted)", hidden.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Racing_creates_of_one_name_store_one_audience()
    {
        await using var w = await CreateAsync();
        var attempts = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            try
            {
                await w.Audiences.CreateAsync("prod", "gold", Edge);
                return "created";
            }
            catch (CatalogException error)
            {
                return error.Code;
            }
        })));
        Assert.Single(attempts, a => a == "created");
        Assert.Equal(7, attempts.Count(a => a == "AUDIENCE_EXISTS"));
        Assert.Single(w.Audiences.List("prod"));
    }

    [Fact]
    public async Task Sandboxes_do_not_see_each_others_audiences()
    {
        await using var w = await CreateAsync();
        await w.Workspace.Catalog.EnsureSandboxAsync("dev");
        await w.CreateAsync("a", Edge);
        Assert.Null(w.Audiences.Get("dev", "a"));
        await Refused("AUDIENCE_NOT_FOUND", () => w.Audiences.CreateAsync("dev", "b", "inSegment(\"a\")"));
        Assert.Equal("a", (await w.Audiences.CreateAsync("dev", "a", Edge, id: "a")).Id);
    }

    [Fact]
    public async Task The_audience_limit_counts_every_audience_but_the_deleted()
    {
        await using var w = await CreateAsync("""{ "segmentation": { "maxAudiences": 2 } }""");
        await w.CreateAsync("a", Edge);
        await w.CreateAsync("b", Edge);
        var error = await Refused("AUDIENCE_LIMIT", () => w.CreateAsync("c", Edge));
        Assert.Contains("segmentation.maxAudiences = 2", error.Message, StringComparison.Ordinal);
        await w.Audiences.DeleteAsync("prod", "a");
        await w.CreateAsync("c", Edge);
    }

    [Fact]
    public async Task Published_streaming_and_edge_audiences_have_their_limits()
    {
        await using var w = await CreateAsync("""{ "segmentation": { "maxStreamingAudiences": 2, "maxEdgeAudiences": 1 } }""");
        await w.CreateAsync("edge1", Edge, publish: true);
        await w.CreateAsync("edge2", Edge);
        var edge = await Refused("EDGE_AUDIENCE_LIMIT", () => w.Audiences.PublishAsync("prod", "edge2"));
        Assert.Contains("segmentation.maxEdgeAudiences = 1", edge.Message, StringComparison.Ordinal);

        await w.CreateAsync("streaming1", Streaming, publish: true); // Edge audiences count as streaming ones too: 2 of 2.
        await w.CreateAsync("streaming2", Streaming);
        await Refused("STREAMING_AUDIENCE_LIMIT", () => w.Audiences.PublishAsync("prod", "streaming2"));
        await w.CreateAsync("batch", Batch, publish: true); // Batch audiences are not limited here.

        // An update that makes a published audience streaming is held to the same limit.
        await Refused("STREAMING_AUDIENCE_LIMIT", () => w.Audiences.UpdateAsync("prod", "batch", pql: Streaming));
        Assert.Equal("batch", w.Audiences.Require("prod", "batch").Mode);

        await w.Audiences.DeactivateAsync("prod", "edge1");
        await w.Audiences.PublishAsync("prod", "edge2");
        await Refused("STREAMING_AUDIENCE_LIMIT", () => w.Audiences.PublishAsync("prod", "streaming2"));
        await w.Audiences.DeactivateAsync("prod", "streaming1");
        await w.Audiences.PublishAsync("prod", "streaming2");
    }
}
