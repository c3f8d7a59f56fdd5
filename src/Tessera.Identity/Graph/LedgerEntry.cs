namespace Tessera.Identity.Graph;

/// <summary>
/// One occurrence in the link ledger: the identities a record or event carried (normalized, primary
/// first), where it came from and when. Links are derived from it: the primary to each other identity.
/// </summary>
public sealed record LedgerEntry(long Sequence, DateTimeOffset Time, string Dataset, string Batch, string? Record, IReadOnlyList<IdentityKey> Identities);
