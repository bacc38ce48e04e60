"""Engine: evidence matching, regimen calls, scoring, eligibility and dosing (imports domain, knowledge, interpret)."""
