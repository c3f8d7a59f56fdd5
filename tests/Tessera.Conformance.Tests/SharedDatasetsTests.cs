namespace Tessera.Conformance.Tests;

[Trait("Category", "Conformance")]
public sealed class SharedDatasetsTests
{
    [Fact]
    public void The_datasets_folder_is_beside_the_repository() =>
        Assert.Equal(Path.GetFullPath(Path.Combine(SharedDatasets.RepositoryRoot(), "..", "shared", "datasets")), SharedDatasets.Directory);

    [Fact]
    public void A_missing_file_skips_outside_ci()
    {
        var (_, outcome, message) = SharedDatasets.Check(Path.GetTempPath(), "no-such-dataset/file.csv", ci: false);
        Assert.Equal(SharedDatasets.Outcome.Skip, outcome);
        Assert.Contains("no-such-dataset", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_fails_loudly_under_ci()
    {
        var (_, outcome, message) = SharedDatasets.Check(Path.GetTempPath(), "no-such-dataset/file.csv", ci: true);
        Assert.Equal(SharedDatasets.Outcome.Fail, outcome);
        Assert.Contains("CI=true", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_present_file_is_used()
    {
        var file = Path.GetTempFileName();
        try
        {
            var (path, outcome, _) = SharedDatasets.Check(Path.GetDirectoryName(file)!, Path.GetFileName(file), ci: true);
            Assert.Equal((file, SharedDatasets.Outcome.Present), (path, outcome));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
