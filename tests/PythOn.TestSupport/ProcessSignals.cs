using System.Diagnostics;
using System.Runtime.InteropServices;

namespace PythOn.TestSupport;

/// <summary>Stopping a child process the way an operator would: SIGTERM for a graceful stop, SIGKILL for a crash.</summary>
public static class ProcessSignals
{
    private const int SIGTERM = 15;
    private const int SIGCONT = 18;
    private const int SIGSTOP = 19;

    /// <summary>Sends SIGTERM (Process.Kill only sends SIGKILL).</summary>
    public static void Terminate(int pid)
    {
        if (kill(pid, SIGTERM) != 0)
            throw new InvalidOperationException($"kill(SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>SIGSTOP: the process stays, its sockets accept connections, nothing answers (a hung process).</summary>
    public static void Freeze(int pid)
    {
        if (kill(pid, SIGSTOP) != 0)
            throw new InvalidOperationException($"kill(SIGSTOP) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>SIGCONT: a frozen process goes on.</summary>
    public static void Thaw(int pid)
    {
        if (kill(pid, SIGCONT) != 0)
            throw new InvalidOperationException($"kill(SIGCONT) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>SIGTERM and wait; SIGKILL and a <see cref="TimeoutException"/> with <paramref name="output"/> when it does not stop in time.</summary>
    public static async Task StopAsync(Process process, TimeSpan timeout, string name, Func<string> output)
    {
        if (process.HasExited) return;
        Terminate(process.Id);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{name} did not stop within {timeout.TotalSeconds} s of SIGTERM. Output:\n{output()}");
        }
        process.WaitForExit(); // drain the output readers
    }

    /// <summary>kill -9: no shutdown code runs. Waits until it is gone and its output is read.</summary>
    public static void KillHard(Process process, TimeSpan timeout, string name)
    {
        if (process.HasExited) return;
        process.Kill(entireProcessTree: true);
        if (!process.WaitForExit(timeout)) throw new TimeoutException($"{name} (process {process.Id}) did not die after SIGKILL");
        process.WaitForExit(); // drain the output readers
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
