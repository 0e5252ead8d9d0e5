using PythOn.Api.V1;

namespace PythOn.Client;

// Generate RPCs.
public sealed partial class PythOnClient
{
    /// <summary>Has the server's model write (and by default run) a program (Generate.Generate). Not retried.</summary>
    /// <param name="request">Prompt, language, whether to run, attempts.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The program and the result of its last run.</returns>
    public Task<GenerateResponse> GenerateAsync(GenerateRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync((h, ct) => _generate.GenerateAsync(request, h, cancellationToken: ct), cancellationToken);
    }

    /// <summary>Has the server's model write and run a program for <paramref name="prompt"/> (Generate.Generate). Not retried.</summary>
    /// <param name="prompt">What the program should do.</param>
    /// <param name="language">"python" or "javascript"; null for the server's default (python).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The program and the result of its last run.</returns>
    public Task<GenerateResponse> GenerateAsync(string prompt, string? language = null, CancellationToken cancellationToken = default) =>
        GenerateAsync(new GenerateRequest { Prompt = prompt ?? throw new ArgumentNullException(nameof(prompt)), Language = language ?? "" }, cancellationToken);
}
