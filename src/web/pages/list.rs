//! What the list pages (updates, overrides, comments) share: their query as the filter form
//! sent it, with blank fields dropped, and the pager that keeps the filters.

use actix_web::HttpRequest;

use crate::web::params::Params;
use crate::web::respond::Page;

/// A link of the pager.
pub struct PagerLink {
    pub label: String,
    pub href: Option<String>,
    pub current: bool,
}

/// The query string without empty values (an unset field of a GET form) and without `page`.
fn kept_pairs(req: &HttpRequest) -> Vec<(String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, v)| !v.is_empty() && k != "page")
        .collect()
}

/// Links to the first, previous, ±4 around the current, next and last pages of the list at
/// `path` (such as `{base}updates/`), keeping the query's other parameters.
pub fn pager(path: &str, pairs: &[(String, String)], page: i64, pages: i64) -> Vec<PagerLink> {
    if pages <= 1 {
        return Vec::new();
    }
    let href = |n: i64| {
        let mut query = pairs.to_vec();
        query.push(("page".to_owned(), n.to_string()));
        format!(
            "{path}?{}",
            serde_urlencoded::to_string(&query).unwrap_or_default()
        )
    };
    let link = |label: String, n: i64| PagerLink {
        current: n == page,
        href: (n != page && (1..=pages).contains(&n)).then(|| href(n)),
        label,
    };
    let mut links = vec![link("« Previous".to_owned(), page - 1)];
    let first = (page - 4).max(1);
    let last = (page + 4).min(pages);
    if first > 1 {
        links.push(link("1".to_owned(), 1));
    }
    links.extend((first..=last).map(|n| link(n.to_string(), n)));
    if last < pages {
        links.push(link(pages.to_string(), pages));
    }
    links.push(link("Next »".to_owned(), page + 1));
    links
}

/// The query of a list page: the filters as given (blank fields dropped) and the page.
pub struct ListQuery {
    /// The filters, without `page`: what the pager's links keep.
    pairs: Vec<(String, String)>,
    /// The filters and `page`, for the validator.
    pub params: Params,
    /// The list's own URL.
    path: String,
}

impl ListQuery {
    /// Reads the query of a request for the list at `path` (such as `{base}updates/`).
    pub fn read(req: &HttpRequest, path: String) -> ListQuery {
        let pairs = kept_pairs(req);
        let mut with_page = pairs.clone();
        let raw = Params::from_query(req.query_string());
        if let Some(n) = raw.get("page").filter(|n| !n.is_empty()) {
            with_page.push(("page".to_owned(), n.to_owned()));
        }
        ListQuery {
            params: Params::from_query(
                &serde_urlencoded::to_string(&with_page).unwrap_or_default(),
            ),
            pairs,
            path,
        }
    }

    /// The filters as a query string (for a feed of the same list).
    pub fn filters(&self) -> String {
        serde_urlencoded::to_string(&self.pairs).unwrap_or_default()
    }

    /// The value of a filter as given, for the filter form.
    pub fn first(&self, name: &str) -> String {
        self.params.get(name).unwrap_or_default().to_owned()
    }

    /// The pager of `page` for `total` rows.
    pub fn pager(&self, page: &Page, total: i64) -> Vec<PagerLink> {
        pager(&self.path, &self.pairs, page.page, page.pages(total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pager_shows_four_pages_either_side_and_the_ends() {
        let pairs = vec![("status".to_owned(), "testing".to_owned())];
        let links = pager("/updates/", &pairs, 10, 30);
        let labels: Vec<&str> = links.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "« Previous",
                "1",
                "6",
                "7",
                "8",
                "9",
                "10",
                "11",
                "12",
                "13",
                "14",
                "30",
                "Next »"
            ]
        );
        assert!(links[6].current && links[6].href.is_none());
        assert_eq!(
            links[0].href.as_deref(),
            Some("/updates/?status=testing&page=9")
        );
        let first = pager("/updates/", &[], 1, 2);
        assert!(first[0].href.is_none(), "no previous page of the first");
        assert!(pager("/updates/", &[], 1, 1).is_empty());
    }
}
