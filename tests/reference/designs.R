# Golden values for tests/stats/test_designs.py: exact single-stage binomial designs (A'Hern 2001) by
# brute force with base R pbinom (the rule of clinfun::ph2single: promising if X >= r).
# Regenerate from the repository root:  Rscript tests/reference/designs.R
source("tests/reference/_json.R")
exact_design <- function(p0, p1, alpha, power) {
  for (n in 1:1000) {
    r <- 0:(n + 1)
    size <- pbinom(r - 1, n, p0, lower.tail = FALSE)
    rr <- r[which(size <= alpha)[1]]
    pw <- pbinom(rr - 1, n, p1, lower.tail = FALSE)
    if (pw >= power) return(list(p0 = p0, p1 = p1, alpha = alpha, power = power, n = n, r = rr,
                                 actual_alpha = pbinom(rr - 1, n, p0, lower.tail = FALSE), actual_power = pw))
  }
}
cases <- list(c(0.1, 0.3, 0.05, 0.8), c(0.05, 0.2, 0.05, 0.8), c(0.2, 0.4, 0.05, 0.9), c(0.21, 0.43, 0.025, 0.8),
              c(0.3, 0.5, 0.1, 0.8))
write_json(list(r_version = R.version.string,
                exact = lapply(cases, function(c) exact_design(c[1], c[2], c[3], c[4]))),
           "tests/reference/designs.json")
