# Golden values for tests/stats/test_cutpoint.py from R `maxstat` (Hothorn & Lausen).
# Regenerate from the repository root:  Rscript tests/reference/maxstat.R <lifelines datasets dir>
suppressMessages({library(survival); library(maxstat)})
source("tests/reference/_json.R")
dd <- commandArgs(trailingOnly = TRUE)[1]
gbsg2 <- read.csv(file.path(dd, "gbsg2.csv"))
rossi <- read.csv(file.path(dd, "rossi.csv"))
lung <- read.csv(file.path(dd, "lung.csv"))
demo <- read.csv("examples/stats/demo_cohort.csv")   # synthetic, weak marker: Lau94 bound exceeds 1
one <- function(formula, data, minprop) {
  a <- maxstat.test(formula, data = data, smethod = "LogRank", pmethod = "Lau92", minprop = minprop, maxprop = 1 - minprop)
  b <- maxstat.test(formula, data = data, smethod = "LogRank", pmethod = "Lau94", minprop = minprop, maxprop = 1 - minprop)
  list(call = sprintf("maxstat.test(%s, smethod='LogRank', pmethod='Lau92'|'Lau94', minprop=%g, maxprop=%g)",
                      paste(deparse(formula), collapse = ""), minprop, 1 - minprop),
       minprop = minprop, cutpoint = unname(a$estimate), statistic = unname(a$statistic),
       p_lau92 = a$p.value, p_lau94 = b$p.value,
       n_splits = length(a$stats))
}
out <- list(r_version = R.version.string, maxstat_version = as.character(packageVersion("maxstat")),
  gbsg2_pgr = one(Surv(time, cens) ~ progrec, gbsg2, 0.1),
  gbsg2_age = one(Surv(time, cens) ~ age, gbsg2, 0.1),
  gbsg2_pnodes = one(Surv(time, cens) ~ pnodes, gbsg2, 0.1),
  gbsg2_pgr_02 = one(Surv(time, cens) ~ progrec, gbsg2, 0.2),
  rossi_age = one(Surv(week, arrest) ~ age, rossi, 0.1),
  rossi_prio = one(Surv(week, arrest) ~ prio, rossi, 0.1),
  lung_age = one(Surv(time, status) ~ age, lung, 0.1),
  demo_marker = one(Surv(pfs_months, pfs_event) ~ her2_marker, demo, 0.1))
write_json(out, "tests/reference/maxstat.json")
