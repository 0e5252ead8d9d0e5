using System.Collections.Concurrent;
using System.Text;
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

            staging = store.CreateStaging(o.InstallerUid);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                id = (await docker.Client.Containers.CreateContainerAsync(spec.Build(language, requirements, staging), stop)).ID;
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
                _ = docker.Client.Containers.KillContainerAsync(id, new ContainerKillParameters { Signal = "KILL" }, CancellationToken.None);
            });
            var lines = await PumpAsync(stream, job);
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var exit = (await docker.Client.Containers.WaitContainerAsync(id, deadline.Token)).StatusCode;
            if (timedOut)
                return Failed($"the install did not finish within {o.InstallTimeoutSeconds} s (Agent:Packages:InstallTimeoutSeconds)");
            if (exit != 0)
            {
                log.LogInformation("Install of {Language} set {Key} failed with exit {Exit}", language, key[..12], exit);
                return Failed(ErrorMessage(lines, exit));
            }

            var outcome = store.Commit(staging, language, (long)o.MaxStoreSizeMb * 1024 * 1024);
            staging = null; // committed or deleted by Commit
            if (!outcome.Ok)
                return Failed(outcome.Message);
            store.Remember(key, outcome.StoreId);
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

    private static InstallResult Result(string storeId, IReadOnlyList<string> resolved, long size, bool cached)
    {
        var result = new InstallResult { Ok = true, StoreId = storeId, Cached = cached, SizeBytes = (ulong)size };
        result.Resolved.AddRange(resolved);
        return result;
    }

    /// <summary>Reads the installer's output to its end, line by line, forwarding each line as progress.</summary>
    private static async Task<List<string>> PumpAsync(MultiplexedStream stream, InstallJob job)
    {
        var lines = new List<string>();
        var buffer = new byte[16 * 1024];
        var partial = new Dictionary<MultiplexedStream.TargetStream, StringBuilder>();
        var decoder = new Dictionary<MultiplexedStream.TargetStream, Decoder>();
        void Line(string text)
        {
            text = text.TrimEnd('\r');
            if (text.Length > 1000)
                text = text[..1000] + "…";
            if (lines.Count < 5000)
                lines.Add(text);
            job.Progress(text);
        }
        while (true)
        {
            MultiplexedStream.ReadResult read;
            try
            {
                read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, CancellationToken.None);
            }
            catch (Exception)
            {
                break;
            }
            if (read.EOF)
                break;
            var sb = partial.TryGetValue(read.Target, out var b) ? b : partial[read.Target] = new StringBuilder();
            var dec = decoder.TryGetValue(read.Target, out var d) ? d : decoder[read.Target] = new UTF8Encoding(false).GetDecoder();
            var chars = new char[dec.GetCharCount(buffer, 0, read.Count)];
            dec.GetChars(buffer, 0, read.Count, chars, 0);
            foreach (var c in chars)
            {
                if (c == '\n')
                {
                    Line(sb.ToString());
                    sb.Clear();
                }
                else if (sb.Length < 4000)
                {
                    sb.Append(c);
                }
            }
        }
        foreach (var sb in partial.Values.Where(s => s.Length > 0))
            Line(sb.ToString());
        return lines;
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

    /// <summary>One running install: its output so far, its subscribers, and its result.</summary>
    private sealed class InstallJob
    {
        private readonly List<string> _lines = [];
        private readonly List<ChannelWriter<InstallEvent>> _subscribers = [];
        private InstallResult? _result;

        public void Subscribe(ChannelWriter<InstallEvent> writer)
        {
            lock (_lines)
            {
                foreach (var line in _lines)
                    writer.TryWrite(new InstallEvent { Progress = new InstallProgress { Line = line } });
                if (_result is not null)
                {
                    writer.TryWrite(new InstallEvent { Result = _result });
                    writer.TryComplete();
                    return;
                }
                _subscribers.Add(writer);
            }
        }

        public void Progress(string line)
        {
            lock (_lines)
            {
                if (_lines.Count < 5000)
                    _lines.Add(line);
                foreach (var s in _subscribers)
                    s.TryWrite(new InstallEvent { Progress = new InstallProgress { Line = line } });
            }
        }

        public void Complete(InstallResult result)
        {
            lock (_lines)
            {
                _result = result;
                foreach (var s in _subscribers)
                {
                    s.TryWrite(new InstallEvent { Result = result });
                    s.TryComplete();
                }
                _subscribers.Clear();
            }
        }
    }
}
