# Golden values for tests/stats/test_subgroups.py: subgroup hazard ratios and the treatment-by-subgroup
# interaction likelihood-ratio test with R survival.  Regenerate from the repository root:
#   Rscript tests/reference/subgroups.R <lifelines datasets dir>
suppressMessages(library(survival))
source("tests/reference/_json.R")
dd <- commandArgs(trailingOnly = TRUE)[1]
gbsg2 <- read.csv(file.path(dd, "gbsg2.csv"))
gbsg2$treat <- as.integer(gbsg2$horTh == "yes")
one <- function(data, sub) {
  levs <- sort(unique(as.character(data[[sub]])))
  rows <- list()
  for (l in levs) {
    d <- data[as.character(data[[sub]]) == l, ]
    s <- summary(coxph(Surv(time, cens) ~ treat, data = d, ties = "efron"))
    rows[[l]] <- list(n = nrow(d), events = sum(d$cens), hr = s$conf.int[1, "exp(coef)"],
                      hr_ci_low = s$conf.int[1, "lower .95"], hr_ci_high = s$conf.int[1, "upper .95"],
                      p = s$coefficients[1, "Pr(>|z|)"])
  }
  data$sub <- factor(as.character(data[[sub]]))
  f0 <- coxph(Surv(time, cens) ~ treat + sub, data = data, ties = "efron")
  f1 <- coxph(Surv(time, cens) ~ treat * sub, data = data, ties = "efron")
  a <- anova(f0, f1)
  list(call = sprintf("anova(coxph(Surv(time, cens) ~ treat + %s), coxph(Surv(time, cens) ~ treat * %s))", sub, sub),
       levels = rows, interaction_chi2 = a$Chisq[2], interaction_df = a$Df[2], interaction_p = a[["Pr(>|Chi|)"]][2])
}
write_json(list(r_version = R.version.string, menostat = one(gbsg2, "menostat"), tgrade = one(gbsg2, "tgrade")),
           "tests/reference/subgroups.json")
