# Pyth-On service images, one target per process:
#   docker build --target server -t pyth-on-server .     REST :8080, gRPC :8081, data in /data (non-root)
#   docker build --target agent  -t pyth-on-agent  .     the sandbox agent; drives the host's Docker (see below)
# scripts/build-service-images.sh builds both here, offline, on local base images (scripts/build-dotnet-base-images.sh)
# and with the labels filled in; README.md "Deployment" says how to run them (compose.yaml, deploy/kubernetes/).
# Plain Dockerfile syntax on purpose: it builds with BuildKit and with the classic builder alike.

ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG ASPNET_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0

# ---- project files only: every .csproj under src/ at its path, nothing else ----
FROM ${SDK_IMAGE} AS projects
WORKDIR /src
COPY src/ src/
RUN find src -type f ! -name '*.csproj' -delete && find src -type d -empty -delete

# ---- restore: a cached layer until a project file or a central package version changes ----
FROM ${SDK_IMAGE} AS restore
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props ./
COPY --from=projects /src/src/ src/
RUN dotnet restore src/Server/PythOn.Server.csproj \
 && dotnet restore src/Sandbox.Agent/PythOn.Sandbox.Agent.csproj \
 && dotnet restore src/HealthProbe/PythOn.HealthProbe.csproj

# ---- publish: the sources, then one framework-dependent publish per process ----
FROM restore AS publish
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
COPY protos/ protos/
COPY src/ src/
RUN set -e; \
    for project in Server/PythOn.Server Sandbox.Agent/PythOn.Sandbox.Agent HealthProbe/PythOn.HealthProbe; do \
      dotnet publish "src/$project.csproj" -c Release --no-restore -nologo -clp:ErrorsOnly \
        -p:UseAppHost=false -p:Version="$VERSION" -p:SourceRevisionId="$REVISION" \
        -o "/out/$(dirname "$project")"; \
    done

# ---- common runtime base: the ASP.NET Core runtime, the health probe, OCI labels ----
FROM ${ASPNET_IMAGE} AS runtime
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
# The repository URL (scripts/build-service-images.sh passes `git remote get-url origin` or PYTH_ON_IMAGE_SOURCE).
ARG SOURCE=
LABEL org.opencontainers.image.title="Pyth-On" \
      org.opencontainers.image.description="Self-hostable code-execution service" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"
# Kestrel's endpoints come from configuration (Kestrel__Endpoints__*), not from the base image's port variable.
ENV ASPNETCORE_HTTP_PORTS=
COPY --from=publish /out/HealthProbe /opt/pyth-on/probe

# ---- server: non-root ($APP_UID, the base image's `app` user), data on /data ----
FROM runtime AS server
LABEL org.opencontainers.image.title="Pyth-On server"
WORKDIR /app
COPY --from=publish /out/Server ./
RUN mkdir -p /data && chown "$APP_UID:$APP_UID" /data && chmod 0700 /data
ENV Kestrel__Endpoints__Rest__Url=http://0.0.0.0:8080 \
    Kestrel__Endpoints__Grpc__Url=http://0.0.0.0:8081 \
    PythOn__DataDirectory=/data
USER $APP_UID
EXPOSE 8080 8081
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["dotnet", "/opt/pyth-on/probe/PythOn.HealthProbe.dll", "http://127.0.0.1:8080/health/live"]
ENTRYPOINT ["dotnet", "/app/PythOn.Server.dll", "--contentRoot", "/app"]

# ---- agent: uid 0 with the `app` group, on purpose ----
# It must chown package stores (Agent:Packages:InstallerUid for an install, root after it), which needs CAP_CHOWN,
# and Linux gives capabilities to a non-root process only through file capabilities (which no-new-privileges
# turns off) or ambient ones (which neither Docker nor Kubernetes sets). It also holds the host's Docker socket,
# which is root on the host whatever uid asks. compose.yaml and the Kubernetes DaemonSet therefore drop every
# capability but CHOWN, DAC_OVERRIDE and FOWNER, set no-new-privileges and a read-only root filesystem.
# The `app` group: the agent's unix socket is mode 0660 with the agent's group, so the server (uid/gid $APP_UID)
# can connect through a shared volume.
FROM runtime AS agent
LABEL org.opencontainers.image.title="Pyth-On sandbox agent"
WORKDIR /app
COPY --from=publish /out/Sandbox.Agent ./
USER 0:$APP_UID
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["dotnet", "/opt/pyth-on/probe/PythOn.HealthProbe.dll", "grpc", "unix:/run/pyth-on/agent.sock"]
ENTRYPOINT ["dotnet", "/app/PythOn.Sandbox.Agent.dll", "--contentRoot", "/app"]
