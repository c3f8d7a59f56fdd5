using Bogus;

namespace Tessera.Generator;

/// <summary>
/// Values drawn once from Bogus with the seed (names, streets, cities, products, email domains),
/// then picked from by <see cref="Rng"/> per row: Bogus per row would dominate the run time.
/// </summary>
internal sealed class Pools
{
    public Pools(int seed)
    {
        var faker = new Faker("en") { Random = new Randomizer(seed) };
        FirstNames = Distinct(600, () => faker.Name.FirstName());
        LastNames = Distinct(800, () => faker.Name.LastName());
        Streets = Distinct(1000, () => faker.Address.StreetName());
        Cities = [.. Enumerable.Range(0, 400).Select(_ => new City(faker.Address.City(), faker.Address.StateAbbr(), faker.Address.ZipCode("#####")))];
        Products = [.. Enumerable.Range(0, 500).Select(i => new Product($"P{i + 1:D5}", faker.Commerce.ProductName(),
            Math.Round(faker.Random.Double(3, 250), 2), faker.Commerce.Department(1)))];
        CompanyDomains = Distinct(60, () => faker.Internet.DomainName().ToLowerInvariant());
        FirstLocals = [.. FirstNames.Select(Local)];
        LastLocals = [.. LastNames.Select(Local)];
    }

    /// <summary><see cref="FirstNames"/> as they go into email addresses: ASCII letters, lower case.</summary>
    public string[] FirstLocals { get; }

    public string[] LastLocals { get; }

    public string[] FirstNames { get; }

    public string[] LastNames { get; }

    public string[] Streets { get; }

    public City[] Cities { get; }

    public Product[] Products { get; }

    public string[] CompanyDomains { get; }

    private static string Local(string name)
    {
        var local = new string([.. name.Where(char.IsAsciiLetter).Select(char.ToLowerInvariant)]);
        return local.Length > 0 ? local : "x";
    }

    private static string[] Distinct(int count, Func<string> next)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var list = new List<string>(count);
        for (var tries = 0; list.Count < count && tries < count * 20; tries++)
        {
            var value = next();
            if (value.Length > 0 && !value.Contains(',', StringComparison.Ordinal) && !value.Contains('"', StringComparison.Ordinal) && seen.Add(value))
            {
                list.Add(value);
            }
        }
        return [.. list];
    }
}

internal sealed record City(string Name, string State, string Zip);

internal sealed record Product(string Id, string Name, double Price, string Department);
