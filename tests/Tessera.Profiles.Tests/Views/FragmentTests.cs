using Tessera.Profiles.Fragments;
using Tessera.Profiles.Views;
using static Tessera.Profiles.Tests.Views.ViewFixtures;

namespace Tessera.Profiles.Tests.Views;

public sealed class FragmentTests
{
    private static readonly MergeRule Crm = Timestamp("crm");

    private static string Fold(params RecordVersion[] versions)
    {
        var fragment = new Fragment("crm", Id("CRMID:1"));
        foreach (var version in versions)
        {
            fragment.Apply(version);
        }
        return string.Join(" ", AttributeMerger.Merge([fragment], Crm).Select(a => $"{a.Key}={a.Value.Json}"));
    }

    [Fact]
    public void A_version_folded_twice_counts_once_and_changes_nothing_the_second_time()
    {
        var fragment = new Fragment("crm", Id("CRMID:1"));
        var late = Version("""{"name":"Ann"}""", 0);
        var newest = Version("""{"name":"Anne"}""", 9);
        fragment.Apply(newest);
        fragment.Apply(late);
        var changed = new List<string>();
        fragment.Apply(newest, changed);
        fragment.Apply(late, changed);
        Assert.Equal(2, fragment.Versions);
        Assert.Empty(changed);
        Assert.Equal("""name="Anne" """.Trim(), string.Join(" ", AttributeMerger.Merge([fragment], Crm).Select(a => $"{a.Key}={a.Value.Json}")));
    }

    [Fact]
    public void A_newer_record_replaces_only_the_fields_it_carries()
    {
        var folded = Fold(
            Version("""{"name":"Ann","address":{"city":"Paris","zip":"75001"},"scores":[1,2]}""", 0, batch: "b1"),
            Version("""{"address":{"city":"Lyon"},"scores":[3]}""", 5, batch: "b2"));
        Assert.Equal("""address.city="Lyon" address.zip="75001" name="Ann" scores=[3]""", folded);
    }

    [Fact]
    public void An_explicit_null_erases_a_field_and_a_null_object_everything_below_it()
    {
        Assert.Equal("""address.city="Paris" """.Trim(), Fold(
            Version("""{"name":"Ann","address":{"city":"Paris"}}""", 0),
            Version("""{"name":null}""", 1)));
        Assert.Equal("""address.zip="69001" name="Ann" """.Trim(), Fold(
            Version("""{"name":"Ann","address":{"city":"Paris","zip":"75001"}}""", 0),
            Version("""{"address":null}""", 1),
            Version("""{"address":{"zip":"69001"}}""", 2)));
    }

    [Fact]
    public void An_older_record_arriving_late_does_not_overwrite_a_newer_one()
    {
        var inOrder = Fold(Version("""{"name":"Ann"}""", 0), Version("""{"name":"Anne","address":null}""", 9));
        var late = Fold(Version("""{"name":"Anne","address":null}""", 9), Version("""{"name":"Ann","address":{"city":"Paris"}}""", 0));
        Assert.Equal("""name="Anne" """.Trim(), inOrder);
        Assert.Equal(inOrder, late);
    }

    [Fact]
    public void Union_arrays_keep_distinct_elements_and_union_maps_the_newest_value_per_key()
    {
        Assert.Equal("""prefs={"email":"no","sms":"yes"} tags=["a","b","c"]""", Fold(
            Version("""{"tags":["a","b"],"prefs":{"email":"yes","sms":"yes"}}""", 0),
            Version("""{"tags":["b","c"],"prefs":{"email":"no"}}""", 1)));
        Assert.Equal("""tags=["c"]""", Fold(
            Version("""{"tags":["a","b"]}""", 0),
            Version("""{"tags":null}""", 1),
            Version("""{"tags":["c"]}""", 2)));
    }

    [Fact]
    public void Equal_times_are_ordered_by_batch_then_row()
    {
        var fragment = new Fragment("crm", Id("CRMID:1"));
        fragment.Apply(new RecordVersion(new Stamp(Start.UtcTicks, 7, 2), "b7", RecordVersion.Flatten(System.Text.Json.JsonDocument.Parse("""{"name":"row2"}""").RootElement, Shape)));
        fragment.Apply(new RecordVersion(new Stamp(Start.UtcTicks, 7, 1), "b7", RecordVersion.Flatten(System.Text.Json.JsonDocument.Parse("""{"name":"row1"}""").RootElement, Shape)));
        fragment.Apply(new RecordVersion(new Stamp(Start.UtcTicks, 6, 9), "b6", RecordVersion.Flatten(System.Text.Json.JsonDocument.Parse("""{"name":"earlier batch"}""").RootElement, Shape)));
        Assert.Equal("\"row2\"", fragment.Fields["name"].Value.Json);
    }
}
