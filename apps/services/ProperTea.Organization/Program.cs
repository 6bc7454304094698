var builder = WebApplication.CreateBuilder(args);
builder.Services.AddHealthChecks();

var app = builder.Build();

// The probe paths of deploy/services/base/rollout.yaml (the Aspire ServiceDefaults convention):
// liveness answers while the process runs; readiness runs the registered health checks.
app.MapGet("/alive", () => Results.Ok("alive"));
app.MapHealthChecks("/health");

app.Run();
