using System.Globalization;

namespace Tessera.Generator;

/// <summary>
/// One customer of the retailer, a pure function of (seed, index): the CRM file, the loyalty file,
/// the orders and the login events all derive the same person from the index alone.
/// </summary>
internal readonly record struct Customer(
    int Index, string CrmId, string FirstName, string LastName, string Email, string Phone, DateOnly BirthDate,
    string Street, City City, bool HasLoyalty, string LoyaltyId)
{
    private static readonly string[] FreeDomains = ["gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com", "comcast.net"];

    // US area codes whose every exchange 200-999 libphonenumber accepts as a valid number.
    private static readonly string[] AreaCodes = ["201", "206", "212", "213", "214", "303", "312", "404", "415", "503", "512", "602", "617", "702", "713", "720"];

    public static Customer Of(int seed, Pools pools, int index, DateTimeOffset now)
    {
        var rng = Rng.For(seed, Rng.Stream.Customer, index);
        var firstIndex = rng.Next(pools.FirstNames.Length);
        var lastIndex = rng.Next(pools.LastNames.Length);
        var (first, local) = (pools.FirstNames[firstIndex], pools.FirstLocals[firstIndex]);
        var (last, surname) = (pools.LastNames[lastIndex], pools.LastLocals[lastIndex]);
        var domain = rng.Chance(0.8) ? rng.Pick(FreeDomains) : rng.Pick(pools.CompanyDomains);
        var email = rng.Next(4) switch
        {
            0 => $"{local}.{surname}{index}@{domain}",
            1 => $"{local[0]}{surname}{index}@{domain}",
            2 => $"{local}{index}@{domain}",
            _ => $"{surname}.{local}.{index}@{domain}",
        };
        var phone = PhoneOf(index, rng.Next(5));
        var birth = DateOnly.FromDateTime(now.UtcDateTime).AddDays(-rng.Next(18 * 365, 85 * 365));
        var street = $"{rng.Next(1, 9900)} {rng.Pick(pools.Streets)}";
        var city = rng.Pick(pools.Cities);
        return new Customer(index, CrmIdOf(index), first, last, email, phone, birth, street, city, HasLoyaltyOf(seed, index), LoyaltyIdOf(index));
    }

    /// <summary>About 60% of customers have a loyalty account (the first draw of their loyalty stream).</summary>
    public static bool HasLoyaltyOf(int seed, int index) => Rng.For(seed, Rng.Stream.Loyalty, index).Chance(0.6);

    /// <summary>The customer's own web browsers and app installs (0-2), and whether an anonymous visitor's device comes with them.</summary>
    public static (int Owned, bool Visitor) DevicesOf(int seed, int index)
    {
        var rng = Rng.For(seed, Rng.Stream.Visits, index);
        var roll = rng.NextDouble();
        return (roll < 0.6 ? 0 : roll < 0.9 ? 1 : 2, rng.Chance(0.25));
    }

    public static string CrmIdOf(int index) => index.ToString("D8", CultureInfo.InvariantCulture);

    /// <summary>An 11-digit card number: "7" and a bijective scramble of the index (unique for every index).</summary>
    public static string LoyaltyIdOf(int index) => "7" + unchecked((uint)index * 2654435761u).ToString("D10", CultureInfo.InvariantCulture);

    /// <summary>A unique, valid US number for every index below 128 million, written one of five ways.</summary>
    private static string PhoneOf(int index, int style)
    {
        var n = index - 1;
        var area = AreaCodes[n % AreaCodes.Length];
        var rest = n / AreaCodes.Length;
        var exchange = 200 + rest % 800;
        var line = (rest / 800 * 7919 + 1234) % 10_000;
        return style switch
        {
            0 => $"({area}) {exchange}-{line:D4}",
            1 => $"{area}-{exchange}-{line:D4}",
            2 => $"{area}.{exchange}.{line:D4}",
            3 => $"+1 {area} {exchange} {line:D4}",
            _ => $"1{area}{exchange}{line:D4}",
        };
    }

}
