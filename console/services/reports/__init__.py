"""Reports: figures across the pipeline's stages for managers.

`scope` is what a report covers (days in the viewer's zone, filters), `tables` the
tables and charts as data, `costs` the one home for prices, `pages` the registry of
pages and `report` commands; then one module a page: `funnel`, `works`, `response`,
`velocity`, `operations`. A stage's own figures stay with the stage
(`tracing.pass_reports`, `sending.pace`), and the dashboard's in
`console.services.dashboard`.
"""
