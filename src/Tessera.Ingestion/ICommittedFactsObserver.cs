using Tessera.Storage;

namespace Tessera.Ingestion;

/// <summary>
/// Told about every write set of facts once it is durable and its identity links are applied
/// (<see cref="IngestionService.AddObserver"/>): the hook a derived view (profiles) keeps itself current by.
/// </summary>
public interface ICommittedFactsObserver
{
    /// <summary>
    /// <paramref name="committed"/> is valid only during the call. It holds record versions, events
    /// and timeline keys, and also ledger, quarantine and catalog entries (tell them apart with
    /// <see cref="FactKeys.TryParse"/> on the facts space). An exception is reported, never rethrown.
    /// </summary>
    void OnCommitted(string sandbox, WriteSet committed);
}
