namespace PythOn.Cli;

/// <summary>
/// Exit codes of pyth-on itself. `run` and `zk run` exit with the program's own exit code instead when the
/// program ran; an error line on stderr starting with "error:" tells the two apart.
/// </summary>
public static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;
    /// <summary>An unexpected failure inside pyth-on (a bug).</summary>
    public const int Internal = 1;
    /// <summary>Bad command line: unknown command or option, missing argument, unreadable file, bad value.</summary>
    public const int Usage = 2;
    /// <summary>Not signed in, credentials refused, wrong password, permission denied (including ZK "decryption failed").</summary>
    public const int Auth = 3;
    /// <summary>The server cannot be reached, or answered UNAVAILABLE / DEADLINE_EXCEEDED (e.g. no sandbox agent).</summary>
    public const int Unavailable = 4;
    /// <summary>The server refused or failed the request (invalid argument, not found, already exists, rate limit, internal error).</summary>
    public const int Server = 5;
    /// <summary>Interrupted (Ctrl-C).</summary>
    public const int Interrupted = 130;
}

/// <summary>An error with a one-line message for stderr and the exit code it ends pyth-on with.</summary>
public sealed class CliException(string message, int exitCode) : Exception(message)
{
    /// <summary>The process exit code.</summary>
    public int ExitCode { get; } = exitCode;

    /// <summary>A usage error (exit code 2).</summary>
    public static CliException Usage(string message) => new(message, ExitCodes.Usage);
}
