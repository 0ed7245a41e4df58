//! The order packages are scanned in: a package after its dependencies
//! (it reads what their items reach), independent packages in parallel.

use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `work` for every node after the nodes it depends on (`deps[i]`),
/// nodes whose dependencies are done in parallel on the current rayon pool.
/// `work` sees every finished result; nodes in a dependency cycle (possible
/// only through dev-dependencies) run last, seeing what is finished.
pub fn in_dependency_order<T: Send + Sync>(
    deps: &[Vec<usize>],
    work: &(dyn Fn(usize, &[OnceLock<T>]) -> T + Sync),
) -> Vec<T> {
    let n = deps.len();
    let done: Vec<OnceLock<T>> = (0..n).map(|_| OnceLock::new()).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    let remaining: Vec<AtomicUsize> = deps
        .iter()
        .enumerate()
        .map(|(i, ds)| {
            let unique: BTreeSet<usize> = ds.iter().copied().filter(|&d| d != i && d < n).collect();
            for &d in &unique {
                dependents[d].push(i);
            }
            AtomicUsize::new(unique.len())
        })
        .collect();
    struct Shared<'a, T> {
        done: &'a [OnceLock<T>],
        dependents: &'a [Vec<usize>],
        remaining: &'a [AtomicUsize],
        work: &'a (dyn Fn(usize, &[OnceLock<T>]) -> T + Sync),
    }
    fn run<'s, T: Send + Sync>(node: usize, scope: &rayon::Scope<'s>, shared: &'s Shared<'s, T>) {
        let result = (shared.work)(node, shared.done);
        let _ = shared.done[node].set(result);
        for &dependent in &shared.dependents[node] {
            if shared.remaining[dependent].fetch_sub(1, Ordering::AcqRel) == 1 {
                scope.spawn(move |scope| run(dependent, scope, shared));
            }
        }
    }
    let shared = Shared {
        done: &done,
        dependents: &dependents,
        remaining: &remaining,
        work,
    };
    rayon::scope(|scope| {
        for (node, count) in remaining.iter().enumerate() {
            if count.load(Ordering::Acquire) == 0 {
                let shared = &shared;
                scope.spawn(move |scope| run(node, scope, shared));
            }
        }
    });
    for node in 0..n {
        if done[node].get().is_none() {
            let result = work(node, &done);
            let _ = done[node].set(result);
        }
    }
    done.into_iter()
        .map(|cell| cell.into_inner().expect("every node ran"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_finish_first() {
        // 0 <- 1 <- 2, 3 independent, 4 and 5 in a cycle.
        let deps = vec![vec![], vec![0], vec![1, 0], vec![], vec![5], vec![4]];
        let order = in_dependency_order(&deps, &|node, done| {
            for &d in &deps[node] {
                if !(node == 4 || node == 5) {
                    assert!(done[d].get().is_some(), "{d} before {node}");
                }
            }
            node * 10
        });
        assert_eq!(order, vec![0, 10, 20, 30, 40, 50]);
    }
}
