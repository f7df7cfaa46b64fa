"""Tracing: find and check the owners' mobiles, then score the leads (LUCI's preparation).

`waterfall` runs a skip-trace pass through the team's providers in order, within the
budget; `provider_settings` keeps those providers (order, prices, sealed keys) and
builds the live source; `result_files` loads a vendor's result file and matches its
rows to leads; `apply` writes a result onto a lead without overwriting anything;
`pass_reports` tells what a pass found and cost; `linetype` checks which numbers may be
texted; `scoring` gives each lead its quality score, priority, queue and persona.
Hands scored leads with textable numbers to campaigns.
"""
