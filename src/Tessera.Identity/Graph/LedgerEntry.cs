namespace Tessera.Identity.Graph;

/// <summary>
/// One occurrence in the link ledger: the identities a record or event carried (normalized, primary
/// first), where it came from and when. Links are derived from it: the primary to each other identity.
/// </summary>
/// <param name="FirstHolds">Whether the record or event is stored under the first identity (it was the primary): the
/// graph counts such identities as profiles. False once a privacy deletion removed the primary from the entry: the
/// rest still link, and none of them holds what was stored.</param>
public sealed record LedgerEntry(long Sequence, DateTimeOffset Time, string Dataset, string Batch, string? Record, IReadOnlyList<IdentityKey> Identities,
    bool FirstHolds = true);
