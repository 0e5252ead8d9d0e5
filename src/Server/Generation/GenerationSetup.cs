namespace PythOn.Server.Generation;

public static class GenerationSetup
{
    /// <summary>The model client and the generate loop (ModelSettings is registered with the system services).</summary>
    public static IServiceCollection AddPythOnGeneration(this IServiceCollection services)
    {
        services.AddSingleton<ChatClients>();
        services.AddSingleton<CodeGenerator>();
        return services;
    }
}
