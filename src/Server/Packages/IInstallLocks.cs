using LiteDB;

namespace PythOn.Server.Packages;

/// <summary>
/// Who may install a user's list for a language right now. One server needs no more than its own queue; replicas sharing
/// a database take the list's row lock (PostgreSQL <c>FOR UPDATE SKIP LOCKED</c>), so a list is installed by one replica
/// at a time, and a replica that dies lets go with its connection.
/// </summary>
public interface IInstallLocks
{
    /// <summary>True when other processes install from the same lists (then unfinished lists are swept periodically).</summary>
    bool Shared { get; }

    /// <summary>The list's install lock, or null when another holder has it; dispose it when the install has ended.</summary>
    IDisposable? TryLock(ObjectId userId, string language);
}
