using PhoneNumbers;

namespace Tessera.Generator.Tests;

public sealed class CustomerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Phone_numbers_are_valid_and_distinct_across_the_whole_index_range()
    {
        var pools = new Pools(20261128);
        var util = PhoneNumberUtil.GetInstance();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        // Every area code, exchange (200-999) and many lines: indices spread over 1..10,000,000.
        for (var index = 1; index <= RetailOptions.MaxProfiles; index += 661)
        {
            var phone = Customer.Of(20261128, pools, index, Now).Phone;
            var number = util.Parse(phone, "US");
            Assert.True(util.IsValidNumber(number), $"{index}: {phone}");
            Assert.True(seen.Add(util.Format(number, PhoneNumberFormat.E164)), $"{index}: {phone} twice");
        }
    }

    [Fact]
    public void Ids_are_unique_and_a_customer_is_the_same_wherever_it_is_derived()
    {
        var pools = new Pools(1);
        var loyalty = new HashSet<string>(StringComparer.Ordinal);
        for (var index = 1; index <= RetailOptions.MaxProfiles; index += 997)
        {
            Assert.True(loyalty.Add(Customer.LoyaltyIdOf(index)));
            Assert.Equal(11, Customer.LoyaltyIdOf(index).Length);
        }
        Assert.Equal(Customer.Of(1, pools, 42, Now), Customer.Of(1, new Pools(1), 42, Now));
        Assert.Equal("00000042", Customer.Of(1, pools, 42, Now).CrmId);
        Assert.Equal(Customer.HasLoyaltyOf(1, 42), Customer.Of(1, pools, 42, Now).HasLoyalty);
    }
}
