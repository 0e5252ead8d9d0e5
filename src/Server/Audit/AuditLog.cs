using System.Threading.Channels;
using LiteDB;
using PythOn.Server.Storage;

namespace PythOn.Server.Audit;

public static class AuditOutcome
{
    public const string Success = "success";
    public const string Failure = "failure";
    public const string Denied = "denied";
}

/// <summary>
/// Appends audit entries. Callers pass only non-sensitive facts: never a secret value, password, token or code.
/// Writes are a durable group commit: one writer thread commits every entry waiting at that moment in one
/// IAuditRepository.Append (one transaction), and each caller's task completes only once its entry is committed, so an acknowledged request
/// never loses its entry to kill -9, while concurrent requests share one commit (2–13 ms on a slow disk) instead
/// of queueing for one each.
/// </summary>
public sealed class AuditLog : IDisposable
{
    private const int MaxBatch = 1024;
    private readonly IAuditRepository _entries;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Thread _writer;

    public AuditLog(IAuditRepository entries)
    {
        _entries = entries;
        // A thread of its own: LiteDB transactions belong to the thread that began them, so Append stays synchronous.
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "audit-writer" };
        _writer.Start();
    }

    /// <summary>Completes once the entry is committed to the store.</summary>
    public Task RecordAsync(ObjectId? userId, string action, string resource, string outcome, string clientAddress,
        IReadOnlyDictionary<string, string>? details = null)
    {
        var pending = new Pending(new AuditRecord
        {
            UserId = userId,
            Time = Clock.NowMs(),
            Action = action,
            Resource = resource,
            Outcome = outcome,
            ClientAddress = clientAddress,
            Details = details is null ? [] : new Dictionary<string, string>(details),
        });
        if (!_queue.Writer.TryWrite(pending))
            throw new ObjectDisposedException(nameof(AuditLog), "the audit log is closed");
        return pending.Committed.Task;
    }

    /// <summary>A user's entries with Id below <paramref name="beforeId"/> (exclusive), newest first.</summary>
    public IReadOnlyList<AuditRecord> Page(ObjectId userId, long? beforeId, int count) => _entries.Page(userId, beforeId, count);

    private void WriteLoop()
    {
        var batch = new List<Pending>(MaxBatch);
        while (_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var pending))
                batch.Add(pending);
            try
            {
                _entries.Append(batch.Select(p => p.Record).ToList());
                foreach (var p in batch)
                    p.Committed.TrySetResult();
            }
            catch (Exception e)
            {
                foreach (var p in batch)
                    p.Committed.TrySetException(e);
            }
        }
    }

    /// <summary>Stops taking entries and waits until every queued one is committed.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _writer.Join(TimeSpan.FromSeconds(10));
    }

    private sealed record Pending(AuditRecord Record)
    {
        public TaskCompletionSource Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
