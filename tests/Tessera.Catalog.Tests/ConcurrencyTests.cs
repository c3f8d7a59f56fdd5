using Tessera.Abstractions;

namespace Tessera.Catalog.Tests;

/// <summary>Catalog writes racing each other: each object is created once, and a conflicting create is refused.</summary>
public sealed class ConcurrencyTests
{
    private const int Racers = 16;

    private static async Task<List<(T? Value, CatalogException? Error)>> RaceAsync<T>(Func<int, Task<T>> create)
    {
        using var start = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, Racers).Select(i => Task.Run(async () =>
        {
            start.Wait();
            try
            {
                return ((T?)await create(i), (CatalogException?)null);
            }
            catch (CatalogException error)
            {
                return (default(T), error);
            }
        })).ToList();
        start.Set();
        return [.. await Task.WhenAll(tasks)];
    }

    [Fact]
    public async Task Racing_creates_of_one_dataset_with_different_schemas_leave_exactly_one_winner()
    {
        await using var test = await TestCatalog.CreateAsync();
        for (var i = 0; i < Racers; i++)
        {
            await test.RegisterAsync("""{"name":"NAME","class":"profile","fields":{"id":{"type":"string","identity":{"namespace":"CRMID","primary":true}}}}""".Replace("NAME", $"s{i}", StringComparison.Ordinal));
        }

        var results = await RaceAsync(i => test.Catalog.CreateDatasetAsync("prod", new DatasetDefinition { Name = "crm", Schema = $"s{i}" }));

        var winner = Assert.Single(results, r => r.Error is null);
        Assert.Equal(winner.Value!.Schema, test.Catalog.RequireDataset("prod", "crm").Schema);
        Assert.All(results.Where(r => r.Error is not null), r => Assert.Equal("DATASET_EXISTS", r.Error!.Code));
    }

    [Fact]
    public async Task Racing_creates_of_one_namespace_with_different_types_leave_exactly_one_winner()
    {
        await using var test = await TestCatalog.CreateAsync();
        var types = Enum.GetValues<IdentityType>();

        var results = await RaceAsync(i => test.Catalog.CreateNamespaceAsync("prod",
            new IdentityNamespace { Code = "Card", Name = $"Card {i}", Type = types[i % types.Length] }));

        var stored = test.Catalog.GetNamespace("prod", "Card")!;
        Assert.All(results, r =>
        {
            if (r.Error is null)
            {
                Assert.Equal(stored.Type, r.Value!.Type);
            }
            else
            {
                Assert.Equal("NAMESPACE_EXISTS", r.Error.Code);
            }
        });
    }
}
