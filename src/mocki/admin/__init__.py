"""The administrators' view of the task system and of users' tiers."""
