"""Reports: figures across the pipeline's stages for managers; the reports work lands here.

Empty for now: each stage's own figures stay with the stage (`tracing.pass_reports`,
`sending.pace`), and the dashboard's in `console.services.dashboard`.
"""
