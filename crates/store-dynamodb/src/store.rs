//! `impl Store for DynamoStore`: each method's records and conditions.

use aws_sdk_dynamodb::types::{Delete, Put, Update};
use infraguard_core::approval::{Approval, ApprovalStatus};
use infraguard_core::audit::{AuditEntry, AuditRecord};
use infraguard_core::plan::{Plan, PlanStatus};
use infraguard_core::store::{AppliedState, Lock, Store, StoreError};

use crate::DynamoStore;
use crate::items::{Cancelled, Item, body, delete, get_s, json, n, put, s, update};

/// The `sk` of an applied state: type, then identifier, so a query sorts
/// as SQLite's `ORDER BY type, identifier` does.
fn applied_sk(type_name: &str, identifier: &str) -> String {
    format!("{type_name}\n{identifier}")
}

impl DynamoStore {
    /// The put of a new plan (sealed), never over an existing one.
    fn plan_put(
        &self,
        plan: &Plan,
        seq: i64,
        approval_id: Option<&str>,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        let sealed = self.sealer.seal_plan(plan)?;
        let mut p = Put::builder()
            .table_name(&self.table)
            .item("pk", s("plan"))
            .item("sk", s(&plan.id))
            .item("seq", n(seq))
            .item("env", s(&plan.env))
            .item("status", s(plan.status.as_str()))
            .item("body", s(json(&sealed, "plan")?))
            .condition_expression("attribute_not_exists(pk)");
        if let Some(a) = approval_id {
            p = p.item("approval_id", s(a));
        }
        put(p)
    }

    fn approval_put(
        &self,
        a: &Approval,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        let seq = self.next_seq("approval")?;
        put(Put::builder()
            .table_name(&self.table)
            .item("pk", s("approval"))
            .item("sk", s(&a.id))
            .item("seq", n(seq))
            .item("plan_id", s(&a.plan_id))
            .item("status", s(a.status.as_str()))
            .item("body", s(json(a, "approval")?))
            .condition_expression("attribute_not_exists(pk)"))
    }

    /// A plan's item decoded, its secrets opened.
    fn plan_of(&self, item: &Item) -> Result<Plan, StoreError> {
        let id = get_s(item, "sk").unwrap_or("?");
        self.sealer.open_plan(body(item, &format!("plan {id}"))?)
    }

    /// A plan and its latest approval, both read strongly consistent.
    fn plan_with_approval(
        &self,
        plan_id: &str,
    ) -> Result<Option<(Plan, Option<Approval>)>, StoreError> {
        let Some(item) = self.get("plan", plan_id)? else {
            return Ok(None);
        };
        let plan = self.plan_of(&item)?;
        let approval = match get_s(&item, "approval_id") {
            Some(a) => self.approval(a)?,
            None => None,
        };
        Ok(Some((plan, approval)))
    }

    /// The plan holding `item` (a lock or a pending-content record), if it
    /// is still in flight.
    fn holder_in_flight(
        &self,
        item: Option<&Item>,
        in_flight: &dyn Fn(&Plan, Option<&Approval>) -> bool,
    ) -> Result<Option<Plan>, StoreError> {
        let Some(holder) = item.and_then(|i| get_s(i, "plan_id")) else {
            return Ok(None);
        };
        Ok(self
            .plan_with_approval(holder)?
            .filter(|(p, a)| in_flight(p, a.as_ref()))
            .map(|(p, _)| p))
    }

    /// A put of `pk/sk` naming `plan_id`, on the condition that the record
    /// is still what was read (`seen`: its holder, or absent).
    fn claim(
        &self,
        pk: &str,
        sk: &str,
        seen: Option<&Item>,
        extra: &[(&str, String)],
        plan_id: &str,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        let mut p = Put::builder()
            .table_name(&self.table)
            .item("pk", s(pk))
            .item("sk", s(sk))
            .item("plan_id", s(plan_id));
        for (k, v) in extra {
            p = p.item(*k, s(v.clone()));
        }
        p = match seen.and_then(|i| get_s(i, "plan_id")) {
            Some(old) => p
                .condition_expression("plan_id = :seen")
                .expression_attribute_values(":seen", s(old)),
            None => p.condition_expression("attribute_not_exists(pk)"),
        };
        put(p)
    }

    /// An update of `pk/sk`'s status and body on the condition that its
    /// status is still `expected`: the compare-and-set under every plan
    /// transition and approval decision.
    fn compare_and_set(
        &self,
        pk: &str,
        sk: &str,
        status: &str,
        body: String,
        expected: &str,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        update(
            Update::builder()
                .table_name(&self.table)
                .key("pk", s(pk))
                .key("sk", s(sk))
                .update_expression("SET #st = :new, body = :body")
                .condition_expression("#st = :expected")
                .expression_attribute_names("#st", "status")
                .expression_attribute_values(":new", s(status))
                .expression_attribute_values(":body", s(body))
                .expression_attribute_values(":expected", s(expected)),
        )
    }
}

fn conflict(msg: String) -> StoreError {
    StoreError::Conflict(msg)
}

impl Store for DynamoStore {
    fn insert_plan(
        &self,
        plan: &Plan,
        approval: Option<&Approval>,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        let seq = self.next_seq("plan")?;
        let mut actions = vec![self.plan_put(plan, seq, approval.map(|a| a.id.as_str()))?];
        if let Some(a) = approval {
            actions.push(self.approval_put(a)?);
        }
        match self.transact(actions, audit, "saving a plan")? {
            Ok(()) => Ok(()),
            Err(_) => Err(conflict(format!(
                "plan {} (or its approval) already exists",
                plan.id
            ))),
        }
    }

    fn insert_plan_exclusive(
        &self,
        plan: &Plan,
        approval: Option<&Approval>,
        audit: &[AuditRecord],
        lock: Option<&Lock>,
        in_flight: &dyn Fn(&Plan, Option<&Approval>) -> bool,
    ) -> Result<Option<Plan>, StoreError> {
        let seq = self.next_seq("plan")?;
        // Optimistic: read who holds the resource and the content, decide,
        // then write on the condition that neither changed; a lost race
        // reads again.
        for _ in 0..20 {
            let lock_item = match lock {
                Some(l) => self.get("lock", &l.key)?,
                None => None,
            };
            if let Some(p) = self.holder_in_flight(lock_item.as_ref(), in_flight)? {
                return Ok(Some(p));
            }
            let pending_item = match approval {
                Some(a) => self.get("pending", &a.content_hash)?,
                None => None,
            };
            if let Some(p) = self.holder_in_flight(pending_item.as_ref(), in_flight)? {
                return Ok(Some(p));
            }
            let mut actions = vec![self.plan_put(plan, seq, approval.map(|a| a.id.as_str()))?];
            if let Some(a) = approval {
                actions.push(self.approval_put(a)?);
                actions.push(self.claim(
                    "pending",
                    &a.content_hash,
                    pending_item.as_ref(),
                    &[],
                    &plan.id,
                )?);
            }
            if let Some(l) = lock {
                actions.push(self.claim(
                    "lock",
                    &l.key,
                    lock_item.as_ref(),
                    &[("id", l.id.clone()), ("holder", json(l, "lock")?)],
                    &plan.id,
                )?);
            }
            match self.transact(actions, audit, "saving a plan")? {
                Ok(()) => return Ok(None),
                // The plan or its approval exists already: not a race.
                Err(Cancelled::Condition(0 | 1)) if approval.is_some() => {
                    return Err(conflict(format!("plan {} already exists", plan.id)));
                }
                Err(Cancelled::Condition(0)) => {
                    return Err(conflict(format!("plan {} already exists", plan.id)));
                }
                // Someone took the lock or the content meanwhile: look again.
                Err(_) => continue,
            }
        }
        Err(StoreError::Storage(format!(
            "saving plan {}: the resource's lock kept changing hands; try again",
            plan.id
        )))
    }

    fn take_lock(&self, lock: &Lock, audit: &[AuditRecord]) -> Result<Option<Lock>, StoreError> {
        for _ in 0..5 {
            let p = put(Put::builder()
                .table_name(&self.table)
                .item("pk", s("lock"))
                .item("sk", s(&lock.key))
                .item("plan_id", s(&lock.plan_id))
                .item("id", s(&lock.id))
                .item("holder", s(json(lock, "lock")?))
                .condition_expression("attribute_not_exists(pk)"))?;
            match self.transact(vec![p], audit, "taking a lock")? {
                Ok(()) => return Ok(None),
                Err(_) => {
                    if let Some(held) = self.locks()?.into_iter().find(|l| l.key == lock.key) {
                        return Ok(Some(held));
                    }
                    // Released meanwhile: try again.
                }
            }
        }
        Err(StoreError::Storage(format!(
            "taking lock {}: it kept changing hands; try again",
            lock.id
        )))
    }

    fn locks(&self) -> Result<Vec<Lock>, StoreError> {
        self.query("lock", false, true, None, &|_| true)?
            .iter()
            .map(|item| {
                let mut lock: Lock = serde_json::from_str(get_s(item, "holder").unwrap_or(""))
                    .map_err(|e| StoreError::Corrupt(format!("lock: {e}")))?;
                lock.key = get_s(item, "sk").unwrap_or_default().to_string();
                // The holder is the plan the record names now.
                lock.plan_id = get_s(item, "plan_id").unwrap_or_default().to_string();
                Ok(lock)
            })
            .collect()
    }

    fn release_lock(
        &self,
        id: &str,
        plan_id: &str,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        let gone = || StoreError::lock_gone(id, plan_id);
        let Some(lock) = self.locks()?.into_iter().find(|l| l.id == id) else {
            return Err(gone());
        };
        let d = delete(
            Delete::builder()
                .table_name(&self.table)
                .key("pk", s("lock"))
                .key("sk", s(lock.key))
                .condition_expression("plan_id = :p")
                .expression_attribute_values(":p", s(plan_id)),
        )?;
        match self.transact(vec![d], audit, "removing a lock")? {
            Ok(()) => Ok(()),
            Err(_) => Err(gone()),
        }
    }

    fn update_plan(
        &self,
        plan: &Plan,
        expected_status: PlanStatus,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        let body = json(&self.sealer.seal_plan(plan)?, "plan")?;
        let expected = expected_status.as_str();
        let u = self.compare_and_set("plan", &plan.id, plan.status.as_str(), body, expected)?;
        match self.transact(vec![u], audit, "updating a plan")? {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::plan_changed(&plan.id, expected_status.as_str())),
        }
    }

    fn plan(&self, id: &str) -> Result<Option<Plan>, StoreError> {
        self.get("plan", id)?.map(|i| self.plan_of(&i)).transpose()
    }

    fn plans(&self, env: Option<&str>, limit: usize) -> Result<Vec<Plan>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let keep = |i: &Item| env.is_none_or(|e| get_s(i, "env") == Some(e));
        self.query("plan", true, false, Some(limit), &keep)?
            .iter()
            .map(|i| self.plan_of(i))
            .collect()
    }

    fn decide_approval(
        &self,
        approval: &Approval,
        expected: ApprovalStatus,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        let body = json(approval, "approval")?;
        let (id, status) = (&approval.id, approval.status.as_str());
        let u = self.compare_and_set("approval", id, status, body, expected.as_str())?;
        match self.transact(vec![u], audit, "deciding an approval")? {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::approval_decided(
                &approval.id,
                expected.as_str(),
            )),
        }
    }

    fn insert_approval(
        &self,
        approval: &Approval,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        let point = update(
            Update::builder()
                .table_name(&self.table)
                .key("pk", s("plan"))
                .key("sk", s(&approval.plan_id))
                .update_expression("SET approval_id = :a")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":a", s(&approval.id)),
        )?;
        match self.transact(
            vec![self.approval_put(approval)?, point],
            audit,
            "saving an approval",
        )? {
            Ok(()) => Ok(()),
            Err(Cancelled::Condition(0)) => {
                Err(conflict(format!("approval {} already exists", approval.id)))
            }
            Err(_) => Err(conflict(format!(
                "approval {} is for plan {}, which does not exist",
                approval.id, approval.plan_id
            ))),
        }
    }

    fn approval(&self, id: &str) -> Result<Option<Approval>, StoreError> {
        self.get("approval", id)?
            .map(|i| body(&i, &format!("approval {id}")))
            .transpose()
    }

    fn approval_for_plan(&self, plan_id: &str) -> Result<Option<Approval>, StoreError> {
        Ok(self.plan_with_approval(plan_id)?.and_then(|(_, a)| a))
    }

    fn approvals(&self, status: Option<ApprovalStatus>) -> Result<Vec<Approval>, StoreError> {
        let keep = |i: &Item| status.is_none_or(|st| get_s(i, "status") == Some(st.as_str()));
        self.query("approval", true, true, None, &keep)?
            .iter()
            .map(|i| body(i, "approval"))
            .collect()
    }

    fn append_audit(&self, audit: &[AuditRecord]) -> Result<(), StoreError> {
        match self.transact(Vec::new(), audit, "appending to the audit log")? {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::Storage(
                "appending to the audit log: a condition failed".into(),
            )),
        }
    }

    fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        self.query("audit", false, true, None, &|_| true)?
            .iter()
            .map(|i| body(i, "audit entry"))
            .collect()
    }

    fn spend_token(&self, token_id: &str, expires_at: i64) -> Result<bool, StoreError> {
        let req = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s("token"))
            .item("sk", s(token_id))
            .item("expires_at", n(expires_at))
            // DynamoDB forgets it a day after it expired (it is refused for
            // its age by then anyway).
            .item("ttl", n(expires_at.saturating_add(86_400)))
            .condition_expression("attribute_not_exists(pk)")
            .send();
        Ok(self.call_conditional("spending a token", req)?.is_some())
    }

    fn token_spent(&self, token_id: &str) -> Result<bool, StoreError> {
        Ok(self.get("token", token_id)?.is_some())
    }

    fn open_question(
        &self,
        approval_id: &str,
        nonce: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let req = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s("question"))
            .item("sk", s(approval_id))
            .item("nonce", s(nonce))
            .item("expires_at", n(expires_at))
            .item("ttl", n(expires_at.saturating_add(86_400)))
            .send();
        self.call("asking an approval question", req).map(|_| ())
    }

    fn take_question(&self, approval_id: &str, nonce: &str, now: i64) -> Result<bool, StoreError> {
        let req = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s("question"))
            .key("sk", s(approval_id))
            .condition_expression("nonce = :n AND expires_at >= :now")
            .expression_attribute_values(":n", s(nonce))
            .expression_attribute_values(":now", n(now))
            .send();
        Ok(self
            .call_conditional("answering an approval question", req)?
            .is_some())
    }

    fn record_applied(&self, st: &AppliedState) -> Result<(), StoreError> {
        let props = self.sealer.seal_properties(&st.type_name, &st.properties)?;
        let req = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(format!("applied#{}", st.env)))
            .item("sk", s(applied_sk(&st.type_name, &st.identifier)))
            .item("type", s(&st.type_name))
            .item("identifier", s(&st.identifier))
            .item("properties", s(props.to_string()))
            .item("plan_id", s(&st.plan_id))
            .item("at", s(&st.at))
            .send();
        self.call("recording an applied state", req).map(|_| ())
    }

    fn forget_applied(
        &self,
        env: &str,
        type_name: &str,
        identifier: &str,
    ) -> Result<(), StoreError> {
        let req = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(format!("applied#{env}")))
            .key("sk", s(applied_sk(type_name, identifier)))
            .send();
        self.call("forgetting an applied state", req).map(|_| ())
    }

    fn applied(&self, env: &str) -> Result<Vec<AppliedState>, StoreError> {
        self.query(&format!("applied#{env}"), false, true, None, &|_| true)?
            .iter()
            .map(|i| {
                let type_name = get_s(i, "type").unwrap_or_default().to_string();
                let identifier = get_s(i, "identifier").unwrap_or_default().to_string();
                let props = serde_json::from_str(get_s(i, "properties").unwrap_or("null"))
                    .map_err(|e| StoreError::Corrupt(format!("applied state: {e}")))?;
                Ok(AppliedState {
                    env: env.to_string(),
                    properties: self.sealer.open_properties(
                        props,
                        &format!("the applied state of {type_name} `{identifier}`"),
                    )?,
                    plan_id: get_s(i, "plan_id").unwrap_or_default().to_string(),
                    at: get_s(i, "at").unwrap_or_default().to_string(),
                    type_name,
                    identifier,
                })
            })
            .collect()
    }

    fn audit_key(&self) -> Vec<u8> {
        self.key.clone()
    }
}
