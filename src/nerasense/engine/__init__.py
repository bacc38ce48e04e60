"""The neratinib sensitivity engine: facts from the profile, evidence matching, calls, eligibility."""
