using Tessera.Abstractions;

namespace Tessera.Catalog.Tests;

public sealed class MergePolicyTests
{
    private const string Profile = """{"name":"crm","class":"profile","fields":{"crmId":{"type":"string","identity":{"namespace":"CRMID","primary":true}}}}""";
    private const int Limit = 5;

    /// <summary>A catalog with datasets crm and loyalty in prod (and none in dev).</summary>
    private static async Task<TestCatalog> WithDatasetsAsync()
    {
        var test = await TestCatalog.CreateAsync("dev");
        await test.RegisterAsync(Profile);
        await test.Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "crm", Schema = "crm" });
        await test.Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "loyalty", Schema = "crm" });
        return test;
    }

    private static MergePolicy Precedence(string name, params string[] datasets) =>
        new() { Name = name, AttributeMerge = AttributeMerge.DatasetPrecedence, Datasets = datasets };

    private static async Task<CatalogException> RefusedAsync(string code, Func<Task> action)
    {
        var error = await Assert.ThrowsAsync<CatalogException>(action);
        Assert.Equal(code, error.Code);
        return error;
    }

    [Fact]
    public async Task A_sandbox_without_policies_resolves_to_the_built_in_default()
    {
        await using var test = await WithDatasetsAsync();

        Assert.Empty(test.Catalog.ListMergePolicies("prod"));
        var resolved = test.Catalog.ResolveMergePolicy("prod", null);
        Assert.Same(MergePolicy.BuiltInDefault, resolved);
        Assert.Equal(AttributeMerge.Timestamp, resolved.AttributeMerge);
        Assert.Equal(IdentityStitching.Graph, resolved.Stitching);
        var missing = Assert.Throws<CatalogException>(() => test.Catalog.ResolveMergePolicy("prod", "nope"));
        Assert.Equal("MERGE_POLICY_NOT_FOUND", missing.Code);
        Assert.Contains("'nope'", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Policies_are_created_stored_and_resolved_by_name_or_default()
    {
        await using var test = await WithDatasetsAsync();

        var first = await test.Catalog.CreateMergePolicyAsync("prod", new MergePolicy { Name = "newest" }, Limit);
        test.Time.Advance(TimeSpan.FromMinutes(1));
        var second = await test.Catalog.CreateMergePolicyAsync("prod", Precedence("crm-first", "crm", "loyalty") with { Stitching = IdentityStitching.None }, Limit);

        // The first policy of a sandbox is its default, though it did not ask to be.
        Assert.True(first.Default);
        Assert.False(second.Default);
        Assert.Equal(test.Time.GetUtcNow(), second.CreatedAt);
        test.Reopen();
        var read = test.Catalog.GetMergePolicy("prod", "crm-first")!;
        Assert.Equal(AttributeMerge.DatasetPrecedence, read.AttributeMerge);
        Assert.Equal(["crm", "loyalty"], read.Datasets!);
        Assert.Equal(IdentityStitching.None, read.Stitching);
        Assert.Equal(second.CreatedAt, read.CreatedAt);
        Assert.Equal(["crm-first", "newest"], test.Catalog.ListMergePolicies("prod").Select(p => p.Name));
        Assert.Equal("newest", test.Catalog.ResolveMergePolicy("prod", null).Name);
        Assert.Equal("crm-first", test.Catalog.ResolveMergePolicy("prod", "crm-first").Name);
        // Sandboxes do not share policies.
        Assert.Same(MergePolicy.BuiltInDefault, test.Catalog.ResolveMergePolicy("dev", null));
        Assert.Null(test.Catalog.GetMergePolicy("dev", "newest"));
    }

    [Fact]
    public async Task Making_another_policy_the_default_clears_the_old_flag()
    {
        await using var test = await WithDatasetsAsync();
        await test.Catalog.CreateMergePolicyAsync("prod", new MergePolicy { Name = "a" }, Limit);
        await test.Catalog.CreateMergePolicyAsync("prod", new MergePolicy { Name = "b" }, Limit);

        var c = await test.Catalog.CreateMergePolicyAsync("prod", new MergePolicy { Name = "c", Default = true }, Limit);
        Assert.True(c.Default);
        Assert.Equal(["c"], Defaults(test));

        var b = await test.Catalog.SetDefaultMergePolicyAsync("prod", "b");
        Assert.True(b.Default);
        Assert.Equal(["b"], Defaults(test));
        Assert.Equal("b", test.Catalog.ResolveMergePolicy("prod", null).Name);

        // Setting the default again changes nothing; an update may take the flag but not drop it.
        await test.Catalog.SetDefaultMergePolicyAsync("prod", "b");
        await test.Catalog.UpdateMergePolicyAsync("prod", new MergePolicy { Name = "b", Stitching = IdentityStitching.None });
        Assert.Equal(["b"], Defaults(test));
        await test.Catalog.UpdateMergePolicyAsync("prod", new MergePolicy { Name = "a", Default = true });
        Assert.Equal(["a"], Defaults(test));
        await RefusedAsync("MERGE_POLICY_NOT_FOUND", () => test.Catalog.SetDefaultMergePolicyAsync("prod", "zz"));
    }

    private static List<string> Defaults(TestCatalog test) => [.. test.Catalog.ListMergePolicies("prod").Where(p => p.Default).Select(p => p.Name)];

    [Fact]
    public async Task An_update_replaces_the_rules_and_keeps_name_and_creation_time()
    {
        await using var test = await WithDatasetsAsync();
        var created = await test.Catalog.CreateMergePolicyAsync("prod", new MergePolicy { Name = "p" }, Limit);
        test.Time.Advance(TimeSpan.FromHours(1));

        var updated = await test.Catalog.UpdateMergePolicyAsync("prod", Precedence("p", "loyalty") with { CreatedAt = test.Time.GetUtcNow() });

        Assert.Equal(created.CreatedAt, updated.CreatedAt);
        Assert.True(updated.Default);
        var read = test.Catalog.GetMergePolicy("prod", "p")!;
        Assert.Equal(AttributeMerge.DatasetPrecedence, read.AttributeMerge);
        Assert.Equal(["loyalty"], read.Datasets!);
        await RefusedAsync("MERGE_POLICY_NOT_FOUND", () => test.Catalog.UpdateMergePolicyAsync("prod", new MergePolicy { Name = "other" }));
        await RefusedAsync("MERGE_POLICY_INVALID", () => test.Catalog.UpdateMergePolicyAsync("prod", Precedence("p", "gone")));
        Assert.Equal(["loyalty"], test.Catalog.GetMergePolicy("prod", "p")!.Datasets!);
    }

    [Fact]
    public async Task Names_must_be_valid_and_unique()
    {
        await using var test = await WithDatasetsAsync();
        await test.Catalog.CreateMergePolicyAsync("prod", new MergePolicy { Name = "p" }, Limit);

        var invalid = await RefusedAsync("NAME_INVALID", () => test.Catalog.CreateMergePolicyAsync("prod", new MergePolicy { Name = "bad name" }, Limit));
        Assert.Contains("'bad name'", invalid.Message, StringComparison.Ordinal);
        var duplicate = await RefusedAsync("MERGE_POLICY_EXISTS", () => test.Catalog.CreateMergePolicyAsync("prod", new MergePolicy { Name = "p", Stitching = IdentityStitching.None }, Limit));
        Assert.Contains("'p'", duplicate.Message, StringComparison.Ordinal);
        Assert.Equal(IdentityStitching.Graph, test.Catalog.GetMergePolicy("prod", "p")!.Stitching);
        await RefusedAsync("SANDBOX_NOT_FOUND", () => test.Catalog.CreateMergePolicyAsync("nowhere", new MergePolicy { Name = "p" }, Limit));
    }

    [Fact]
    public async Task Dataset_precedence_needs_a_non_empty_distinct_list_of_existing_datasets()
    {
        await using var test = await WithDatasetsAsync();

        var empty = await RefusedAsync("MERGE_POLICY_INVALID", () => test.Catalog.CreateMergePolicyAsync("prod", Precedence("p"), Limit));
        Assert.Contains("needs datasets", empty.Message, StringComparison.Ordinal);
        await RefusedAsync("MERGE_POLICY_INVALID", () => test.Catalog.CreateMergePolicyAsync("prod",
            new MergePolicy { Name = "p", AttributeMerge = AttributeMerge.DatasetPrecedence }, Limit));
        var twice = await RefusedAsync("MERGE_POLICY_INVALID", () => test.Catalog.CreateMergePolicyAsync("prod", Precedence("p", "crm", "loyalty", "crm"), Limit));
        Assert.Contains("dataset 'crm' is listed twice", twice.Message, StringComparison.Ordinal);
        var unknown = await RefusedAsync("MERGE_POLICY_INVALID", () => test.Catalog.CreateMergePolicyAsync("prod", Precedence("p", "crm", "pos"), Limit));
        Assert.Contains("dataset 'pos' does not exist", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("merge policy 'p'", unknown.Message, StringComparison.Ordinal);
        // Another sandbox's dataset is not one of this sandbox's.
        await RefusedAsync("MERGE_POLICY_INVALID", () => test.Catalog.CreateMergePolicyAsync("dev", Precedence("p", "crm"), Limit));
        var ignored = await RefusedAsync("MERGE_POLICY_INVALID", () => test.Catalog.CreateMergePolicyAsync("prod",
            new MergePolicy { Name = "p", Datasets = ["crm"] }, Limit));
        Assert.Contains("only used with attributeMerge datasetPrecedence, not timestamp", ignored.Message, StringComparison.Ordinal);
        Assert.Empty(test.Catalog.ListMergePolicies("prod"));
        Assert.Empty(test.Catalog.ListMergePolicies("dev"));
    }

    [Fact]
    public async Task At_most_the_configured_number_of_policies_per_sandbox()
    {
        await using var test = await WithDatasetsAsync();
        for (var i = 0; i < 3; i++)
        {
            await test.Catalog.CreateMergePolicyAsync("prod", new MergePolicy { Name = $"p{i}" }, maxPolicies: 3);
        }

        var error = await RefusedAsync("MERGE_POLICY_LIMIT", () => test.Catalog.CreateMergePolicyAsync("prod", new MergePolicy { Name = "p3" }, maxPolicies: 3));
        Assert.Contains("profiles.maxMergePolicies", error.Message, StringComparison.Ordinal);
        Assert.Contains("'p3'", error.Message, StringComparison.Ordinal);
        // The limit is per sandbox, and deleting one makes room.
        await test.Catalog.CreateMergePolicyAsync("dev", new MergePolicy { Name = "p3" }, maxPolicies: 3);
        await test.Catalog.DeleteMergePolicyAsync("prod", "p2");
        await test.Catalog.CreateMergePolicyAsync("prod", new MergePolicy { Name = "p3" }, maxPolicies: 3);
        Assert.Equal(3, test.Catalog.ListMergePolicies("prod").Count);
    }

    [Fact]
    public async Task The_default_is_deleted_only_when_it_is_the_last_policy()
    {
        await using var test = await WithDatasetsAsync();
        await test.Catalog.CreateMergePolicyAsync("prod", new MergePolicy { Name = "a" }, Limit);
        await test.Catalog.CreateMergePolicyAsync("prod", new MergePolicy { Name = "b" }, Limit);

        var error = await RefusedAsync("MERGE_POLICY_IS_DEFAULT", () => test.Catalog.DeleteMergePolicyAsync("prod", "a"));
        Assert.Contains("'a'", error.Message, StringComparison.Ordinal);
        Assert.Contains("b", error.Message, StringComparison.Ordinal);
        await RefusedAsync("MERGE_POLICY_NOT_FOUND", () => test.Catalog.DeleteMergePolicyAsync("prod", "zz"));

        var deleted = await test.Catalog.DeleteMergePolicyAsync("prod", "b");
        Assert.Equal("b", deleted.Name);
        await test.Catalog.DeleteMergePolicyAsync("prod", "a");
        Assert.Empty(test.Catalog.ListMergePolicies("prod"));
        Assert.Same(MergePolicy.BuiltInDefault, test.Catalog.ResolveMergePolicy("prod", null));

        // A sandbox that starts over gets a new first default.
        var again = await test.Catalog.CreateMergePolicyAsync("prod", new MergePolicy { Name = "b" }, Limit);
        Assert.True(again.Default);
    }

    [Fact]
    public async Task Racing_creates_of_defaults_leave_exactly_one_default_and_respect_the_limit()
    {
        await using var test = await WithDatasetsAsync();
        var attempts = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            try
            {
                await test.Catalog.CreateMergePolicyAsync("prod", new MergePolicy { Name = $"p{i}", Default = true }, maxPolicies: 4);
                return true;
            }
            catch (CatalogException error) when (error.Code == "MERGE_POLICY_LIMIT")
            {
                return false;
            }
        })).ToList();
        await Task.WhenAll(attempts);

        Assert.Equal(4, attempts.Count(a => a.Result));
        Assert.Equal(4, test.Catalog.ListMergePolicies("prod").Count);
        Assert.Single(Defaults(test));
    }
}
