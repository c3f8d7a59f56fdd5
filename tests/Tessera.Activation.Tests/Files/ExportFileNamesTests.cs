using Tessera.Activation.Files;

namespace Tessera.Activation.Tests.Files;

public sealed class ExportFileNamesTests
{
    [Theory]
    [InlineData("crm-daily", "crm-daily")]
    [InlineData("v1.2", "v1.2")]
    [InlineData("crm_export", "crm%5Fexport")]
    [InlineData("a/b\\c", "a%2Fb%5Cc")]
    [InlineData("../etc", "%2E.%2Fetc")]
    [InlineData("with space", "with%20space")]
    [InlineData("Zürich", "Z%C3%BCrich")]
    [InlineData("100%", "100%25")]
    [InlineData("😀", "%F0%9F%98%80")]
    public void Ids_keep_letters_digits_dashes_and_dots_and_percent_encode_the_rest(string id, string encoded) =>
        Assert.Equal(encoded, ExportFileNames.EncodeId(id));

    [Fact]
    public void Different_ids_never_share_an_encoding_and_names_split_on_underscores()
    {
        var first = ExportFileNames.RunName("a_b", "c", DateTimeOffset.UnixEpoch);
        var second = ExportFileNames.RunName("a", "b_c", DateTimeOffset.UnixEpoch);

        Assert.NotEqual(first, second);
        Assert.Equal(["a%5Fb", "c", "19700101000000"], first.Split('_'));
    }

    [Fact]
    public void Long_ids_are_cut_and_end_in_a_hash_of_the_whole_id()
    {
        var longId = new string('x', 200);
        var otherLongId = new string('x', 199) + "y";

        var encoded = ExportFileNames.EncodeId(longId);

        Assert.Equal(ExportFileNames.MaxIdLength, encoded.Length);
        Assert.Matches("^x{63}~[0-9a-f]{16}$", encoded);
        Assert.NotEqual(encoded, ExportFileNames.EncodeId(otherLongId));
    }

    [Fact]
    public void A_long_id_is_never_cut_inside_an_escape()
    {
        var encoded = ExportFileNames.EncodeId(new string('x', 62) + "éééééééééééé");

        Assert.Matches("^x{62}~[0-9a-f]{16}$", encoded);
    }

    [Fact]
    public void Staging_and_final_names_belong_to_their_run_only()
    {
        var run = ExportFileNames.RunName("d", "a", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));

        Assert.Equal("d_a_20260102030405", run);
        Assert.Equal("d_a_20260102030405_part0002.csv.gz.tmp", ExportFileNames.StagingName(run, ".csv.gz", 2));
        Assert.Equal("d_a_20260102030405.parquet", ExportFileNames.FileName(run, ".parquet", 1, 1));
        Assert.Equal("d_a_20260102030405_part0001.parquet", ExportFileNames.FileName(run, ".parquet", 1, 2));
        Assert.True(ExportFileNames.BelongsToRun("d_a_20260102030405.csv", run));
        Assert.True(ExportFileNames.BelongsToRun("d_a_20260102030405_part0003.jsonl.tmp", run));
        Assert.False(ExportFileNames.BelongsToRun("d_a_202601020304050.csv", run));
        Assert.False(ExportFileNames.BelongsToRun("d_a_20260102030405", run));
        Assert.False(ExportFileNames.BelongsToRun("d_a_20260102030405_other.csv", run));
    }
}
