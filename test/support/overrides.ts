/**
 * The tenant override a RevOps admin writes to route on Salesforce's `Territory__c`: select it
 * in the account query and map it into the normalized account as `territory`. (The same shape
 * stands, as JSON, in `config/tenants.example.json`.)
 */
export const SALESFORCE_TERRITORY_OVERRIDE = {
  operations: {
    'crm.findAccounts': {
      query: String.raw`{ "q": "SELECT Id, Name, Website, OwnerId, Territory__c FROM Account WHERE Website LIKE '%" & $replace(input.domain, "'", "\\'") & "%' ORDER BY Id" }`,
      response: `[records.{
        "id": Id, "name": Name, "ownerId": OwnerId, "website": Website,
        "domains": [$replace($replace(Website, /^https?:\\/\\/(www\\.)?/, ""), /\\/.*$/, "")],
        "territory": Territory__c
      }]`,
    },
  },
};
