using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Options;
using PythOn.Sandbox.Agent.Docker;
using PythOn.Sandbox.Agent.Runs;
using PythOn.Sandbox.Agent.Runtime;
using PythOn.Sandbox.V1;

namespace PythOn.Sandbox.Agent.Packages;

/// <summary>
/// Installs package sets into stores. One install per requested set at a time: a second caller of the same set
/// joins the running install (it sees its output so far and the result). Installs are detached from their
/// callers, so a caller that stops waiting (a bounded wait on the server) finds the store ready when it asks
/// again. At most Agent:Packages:MaxConcurrentInstalls install containers run at once.
/// </summary>
public sealed partial class PackageInstaller(
    IOptions<AgentOptions> options,
    PackageStore store,
    StoreCollector collector,
    InstallContainerSpec spec,
    DockerHost docker,
    IHostApplicationLifetime lifetime,
    ILogger<PackageInstaller> log)
{
    private const int MaxMessageChars = 2000;
    private readonly ConcurrentDictionary<string, InstallJob> _running = new();
    private readonly SemaphoreSlim _slots = new(Math.Max(1, options.Value.Packages.MaxConcurrentInstalls));

    public async Task InstallAsync(InstallRequest request, Func<InstallEvent, Task> emit, CancellationToken ct)
    {
        var (language, requirements) = Validate(request);
        var o = options.Value.Packages;
        var key = PackageStore.RequestKey(language, language == "python" ? o.PipIndexUrl : o.NpmRegistry, requirements);

        if (store.FindCached(key) is { } cached)
        {
            await emit(new InstallEvent { Result = Result(cached.StoreId, cached.Resolved, cached.Size, cached: true) });
            return;
        }

        InstallJob job;
        lock (_running)
            job = _running.TryGetValue(key, out var running) ? running : _running[key] = StartJob(key, language, requirements);
        var events = Channel.CreateUnbounded<InstallEvent>(new UnboundedChannelOptions { SingleReader = true });
        job.Subscribe(events.Writer);
        await foreach (var e in events.Reader.ReadAllAsync(ct))
            await emit(e);
    }

    private (string Language, IReadOnlyList<string> Requirements) Validate(InstallRequest r)
    {
        var language = LanguageRuntime.Find(r.Language)?.Name
            ?? throw Invalid($"unknown language '{r.Language}' (supported: {string.Join(", ", LanguageRuntime.All.Select(l => l.Name))})");
        if (r.Requirements.Count == 0)
            throw Invalid("requirements must not be empty");
        var max = options.Value.Packages.MaxRequirements;
        if (r.Requirements.Count > max)
            throw Invalid($"{r.Requirements.Count} requirements given; the limit is {max}");
        foreach (var requirement in r.Requirements)
        {
            // Defence in depth: the server validates strictly; here nothing that could be an option, URL or path passes.
            if (requirement.Length is 0 or > 214 || !RequirementRegex().IsMatch(requirement)
                || requirement.Contains("://") || requirement.Contains("..") || requirement.Contains(':'))
                throw Invalid($"requirement '{requirement}' is not a plain package requirement");
        }
        return (language, r.Requirements.Distinct(StringComparer.Ordinal).OrderBy(x => x, StringComparer.Ordinal).ToList());
    }

    private static RunRejectedException Invalid(string message) => new(RunRejection.InvalidArgument, message);

    private InstallJob StartJob(string key, string language, IReadOnlyList<string> requirements)
    {
        var job = new InstallJob();
        _ = Task.Run(async () =>
        {
            InstallResult result;
            try
            {
                result = await RunInstallAsync(key, language, requirements, job);
            }
            catch (Exception e)
            {
                log.LogError(e, "Install of {Language} set {Key} failed unexpectedly", language, key[..12]);
                result = new InstallResult { Ok = false, Message = $"the install could not run: {e.Message}" };
            }
            lock (_running)
                _running.TryRemove(key, out _);
            job.Complete(result);
        });
        return job;
    }

    private async Task<InstallResult> RunInstallAsync(string key, string language, IReadOnlyList<string> requirements, InstallJob job)
    {
        var o = options.Value.Packages;
        var stop = lifetime.ApplicationStopping;
        await _slots.WaitAsync(stop);
        string? staging = null;
        string? id = null;
        try
        {
            // Another install may have finished the same set while this one waited for a slot.
            if (store.FindCached(key) is { } cached)
                return Result(cached.StoreId, cached.Resolved, cached.Size, cached: true);

            staging = store.CreateStaging();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                id = (await docker.Client.Containers.CreateContainerAsync(spec.Build(language, requirements), stop)).ID;
            }
            catch (DockerApiException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                throw new RunRejectedException(RunRejection.Unavailable,
                    $"installer image '{o.InstallerImage}' not found; build it with scripts/build-installer-image.sh");
            }
            using var stream = await docker.Client.Containers.AttachContainerAsync(id, tty: false,
                new ContainerAttachParameters { Stream = true, Stdout = true, Stderr = true }, stop);
            await docker.Client.Containers.StartContainerAsync(id, new ContainerStartParameters(), stop);
            log.LogInformation("Installing {Language} set {Key} ({Count} requirement(s)) in {Id}", language, key[..12], requirements.Count, DockerHost.Short(id));

            var timedOut = false;
            using var timer = new CancellationTokenSource(TimeSpan.FromSeconds(Math.Max(1, o.InstallTimeoutSeconds)));
            using var onTimeout = timer.Token.Register(() =>
            {
                timedOut = true;
                Kill(id);
            });
            // The tree is extracted while it streams, so the byte and entry caps hold before anything is written.
            var tree = new Pipe(new PipeOptions(pauseWriterThreshold: 4 << 20, resumeWriterThreshold: 2 << 20));
            var extraction = ExtractAsync(tree.Reader, staging, id, stop);
            var lines = await InstallerOutput.PumpAsync(stream, job.Progress, tree.Writer);
            await tree.Writer.CompleteAsync();
            var (size, refused) = await extraction;
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var exit = (await docker.Client.Containers.WaitContainerAsync(id, deadline.Token)).StatusCode;
            if (timedOut)
                return Failed($"the install did not finish within {o.InstallTimeoutSeconds} s (Agent:Packages:InstallTimeoutSeconds)");
            if (LimitMessage(exit, refused) is { } limit)
            {
                log.LogInformation("Install of {Language} set {Key} stopped at a limit: {Limit}", language, key[..12], limit);
                return Failed(limit);
            }
            // A refused stream is why the installer was killed (137), or it had finished (0): that is the message.
            if ((refused is InvalidDataException or EndOfStreamException or FormatException) && exit is 0 or 137)
                return Failed($"the installer's output was refused: {refused.Message} (is {o.InstallerImage} current? scripts/build-installer-image.sh)");
            if (exit != 0)
            {
                log.LogInformation("Install of {Language} set {Key} failed with exit {Exit}", language, key[..12], exit);
                return Failed(ErrorMessage(lines, exit));
            }
            if (refused is not null)
                throw refused;

            var outcome = store.Commit(staging, language, size);
            staging = null; // committed or deleted by Commit
            if (!outcome.Ok)
                return Failed(outcome.Message);
            store.Remember(key, outcome.StoreId);
            collector.Committed(outcome.StoreId, outcome.Size);
            log.LogInformation("Installed {Language} set {Key} as store {Store} ({Count} package(s), {Mb:0.0} MiB, {Ms} ms{Reused})",
                language, key[..12], outcome.StoreId, outcome.Resolved.Count, outcome.Size / 1048576.0, clock.ElapsedMilliseconds,
                outcome.Reused ? ", shared with an identical resolved set" : "");
            return Result(outcome.StoreId, outcome.Resolved, outcome.Size, cached: false);
        }
        catch (RunRejectedException e)
        {
            return Failed(e.Message);
        }
        catch (Exception e) when (e is DockerApiException or HttpRequestException)
        {
            return Failed($"Docker could not run the installer: {e.Message}");
        }
        finally
        {
            if (id is not null)
            {
                try
                {
                    await docker.Client.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true }, CancellationToken.None);
                }
                catch (Exception e)
                {
                    log.LogWarning("Could not remove install container {Id}: {Error}", DockerHost.Short(id), e.Message);
                }
            }
            if (staging is not null)
                store.DeleteQuietly(staging);
            _slots.Release();
        }
    }

    private static InstallResult Failed(string message) => new() { Ok = false, Message = message };

    /// <summary>Extracts the installer's tar stream into the staging directory; on a refusal (a limit, a bad entry)
    /// stops reading and kills the installer, and returns why.</summary>
    private async Task<(long Size, Exception? Refused)> ExtractAsync(PipeReader reader, string staging, string containerId, CancellationToken ct)
    {
        var o = options.Value.Packages;
        try
        {
            await using var input = reader.AsStream(leaveOpen: true);
            var size = await StoreExtractor.ExtractAsync(input, staging, (long)Math.Max(1, o.MaxStoreSizeMb) * 1024 * 1024, o.MaxStoreFiles, ct);
            return (size, null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Kill(containerId);
            return (0, e);
        }
        finally
        {
            await reader.CompleteAsync(); // from here on the pump drops stdout
        }
    }

    private void Kill(string containerId) =>
        _ = docker.Client.Containers.KillContainerAsync(containerId, new ContainerKillParameters { Signal = "KILL" }, CancellationToken.None)
            .ContinueWith(t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);

    /// <summary>The message of an install stopped by a store or installer limit: the installer's exit code says which
    /// tmpfs filled (see installer/install.py), the extractor says which cap it counted past; null when neither.</summary>
    private string? LimitMessage(long exit, Exception? refused)
    {
        var o = options.Value.Packages;
        var limit = refused is StoreLimitException e ? e.Limit : exit switch
        {
            90 => StoreLimit.Bytes,
            91 => StoreLimit.Files,
            _ => (StoreLimit?)null,
        };
        return limit switch
        {
            StoreLimit.Bytes => $"the installed packages exceed the store limit of {o.MaxStoreSizeMb} MiB (Agent:Packages:MaxStoreSizeMb)",
            StoreLimit.Files => $"the installed packages exceed the store limit of {o.MaxStoreFiles} files (Agent:Packages:MaxStoreFiles)",
            _ => exit switch
            {
                92 => $"the installer's /tmp is full (Agent:Packages:TmpSizeMb is {o.TmpSizeMb} MiB)",
                137 when refused is null => $"the installer was killed, most likely out of memory (Agent:Packages:MemoryMb is {o.MemoryMb} MiB; "
                    + "the files in its /out and /tmp count against it)",
                _ => null,
            },
        };
    }

    private static InstallResult Result(string storeId, IReadOnlyList<string> resolved, long size, bool cached)
    {
        var result = new InstallResult { Ok = true, StoreId = storeId, Cached = cached, SizeBytes = (ulong)size };
        result.Resolved.AddRange(resolved);
        return result;
    }

    /// <summary>The installer's own error lines (pip "ERROR: ...", npm "npm ERR! ..."), else its last lines; trimmed.</summary>
    private static string ErrorMessage(List<string> lines, long exit)
    {
        var errors = lines.Where(l => l.StartsWith("ERROR:", StringComparison.Ordinal) || l.StartsWith("npm ERR!", StringComparison.Ordinal)
            || l.StartsWith("install.py:", StringComparison.Ordinal)).ToList();
        var chosen = errors.Count > 0 ? errors : lines.Where(l => l.Trim().Length > 0).TakeLast(10).ToList();
        var message = string.Join("\n", chosen).Trim();
        if (message.Length == 0)
            message = $"the installer exited with code {exit} without a message";
        return message.Length > MaxMessageChars ? message[..MaxMessageChars] + "…" : message;
    }

    [GeneratedRegex(@"\A[A-Za-z0-9@][A-Za-z0-9._\-@/~^<>=!*|+\[\](), ]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex RequirementRegex();
}
